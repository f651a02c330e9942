import Foundation

/// Parquet's physical types (parquet.thrift `Type`).
enum ParquetPhysical: Int64 {
    case boolean = 0, int32, int64, int96, float, double, byteArray, fixedLenByteArray

    var name: String {
        ["BOOLEAN", "INT32", "INT64", "INT96", "FLOAT", "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"][Int(rawValue)]
    }
}

/// Page compression codecs (parquet.thrift `CompressionCodec`).
enum ParquetCodec: Int64 {
    case uncompressed = 0, snappy, gzip, lzo, brotli, lz4, zstd, lz4Raw

    var name: String { ["UNCOMPRESSED", "SNAPPY", "GZIP", "LZO", "BROTLI", "LZ4", "ZSTD", "LZ4_RAW"][Int(rawValue)] }
}

/// Value and level encodings (parquet.thrift `Encoding`).
enum ParquetEncoding: Int64 {
    case plain = 0, plainDictionary = 2, rle = 3, bitPacked = 4, deltaBinaryPacked = 5, deltaLengthByteArray = 6,
         deltaByteArray = 7, rleDictionary = 8, byteStreamSplit = 9

    static func name(_ raw: Int64) -> String {
        switch ParquetEncoding(rawValue: raw) {
        case .plain: return "PLAIN"
        case .plainDictionary: return "PLAIN_DICTIONARY"
        case .rle: return "RLE"
        case .bitPacked: return "BIT_PACKED"
        case .deltaBinaryPacked: return "DELTA_BINARY_PACKED"
        case .deltaLengthByteArray: return "DELTA_LENGTH_BYTE_ARRAY"
        case .deltaByteArray: return "DELTA_BYTE_ARRAY"
        case .rleDictionary: return "RLE_DICTIONARY"
        case .byteStreamSplit: return "BYTE_STREAM_SPLIT"
        case nil: return "encoding \(raw)"
        }
    }
}

/// One `SchemaElement` of the footer's flattened schema.
struct ParquetSchemaElement {
    var name: String
    var physical: ParquetPhysical?
    var typeLength: Int?
    /// 0 required, 1 optional, 2 repeated; nil only for the root.
    var repetition: Int64?
    var numChildren: Int
    var convertedType: Int64?
    var scale: Int?
    /// The `LogicalType` union's member id (1 STRING, 2 MAP, 3 LIST, 4 ENUM, 5 DECIMAL, 12 JSON …).
    var logicalType: Int16?

    init(_ s: ThriftStruct) throws {
        name = s.string(4) ?? ""
        if let t = s.int(1) {
            guard let p = ParquetPhysical(rawValue: t) else { throw ColumnarError("schema element '\(name)' has unknown type \(t)") }
            physical = p
        }
        typeLength = s.int(2).map { Int(clamping: $0) }
        repetition = s.int(3)
        numChildren = Int(clamping: s.int(5) ?? 0)
        convertedType = s.int(6)
        scale = s.int(7).map { Int(clamping: $0) }
        logicalType = s.structure(10)?.fields.keys.first
    }
}

/// A column chunk's `ColumnMetaData`.
struct ParquetColumnMeta {
    var physical: ParquetPhysical
    var path: [String]
    var codec: Int64
    var numValues: Int
    var totalCompressedSize: Int
    var dataPageOffset: Int
    var dictionaryPageOffset: Int?

    init(_ s: ThriftStruct) throws {
        let t = try s.require(1, "ColumnMetaData.type")
        guard let p = ParquetPhysical(rawValue: t) else { throw ColumnarError("unknown column type \(t)") }
        physical = p
        path = (s.list(3) ?? []).compactMap { if case .binary(let b) = $0 { return utf8String(b) } else { return nil } }
        codec = try s.require(4, "ColumnMetaData.codec")
        numValues = Int(clamping: try s.require(5, "ColumnMetaData.num_values"))
        totalCompressedSize = Int(clamping: try s.require(7, "ColumnMetaData.total_compressed_size"))
        dataPageOffset = Int(clamping: try s.require(9, "ColumnMetaData.data_page_offset"))
        dictionaryPageOffset = s.int(11).map { Int(clamping: $0) }
    }
}

/// A row group: its row count and one chunk per leaf column.
struct ParquetRowGroup {
    var numRows: Int
    var columns: [ParquetColumnMeta]

    init(_ s: ThriftStruct) throws {
        numRows = Int(clamping: try s.require(3, "RowGroup.num_rows"))
        columns = try (s.list(1) ?? []).enumerated().map { i, v in
            guard case .structure(let chunk) = v else { throw ColumnarError("column chunk \(i) is not a struct") }
            if let file = chunk.string(1), !file.isEmpty {
                throw ColumnarError("column chunk \(i) lives in another file (\(file)); external column chunks are not supported")
            }
            guard let meta = chunk.structure(3) else { throw ColumnarError("column chunk \(i) has no metadata") }
            return try columnarContext("column chunk \(i)") { try ParquetColumnMeta(meta) }
        }
    }
}

/// The footer (`FileMetaData`).
struct ParquetFileMeta {
    var schema: [ParquetSchemaElement]
    var numRows: Int
    var rowGroups: [ParquetRowGroup]

    init(_ s: ThriftStruct) throws {
        schema = try (s.list(2) ?? []).map {
            guard case .structure(let e) = $0 else { throw ColumnarError("a schema element is not a struct") }
            return try ParquetSchemaElement(e)
        }
        numRows = Int(clamping: try s.require(3, "FileMetaData.num_rows"))
        rowGroups = try (s.list(4) ?? []).enumerated().map { i, v in
            guard case .structure(let g) = v else { throw ColumnarError("row group \(i) is not a struct") }
            return try columnarContext("row group \(i)") { try ParquetRowGroup(g) }
        }
    }
}

/// A page header: type, sizes, and the fields of its data, dictionary or v2 header.
struct ParquetPageHeader {
    enum Kind { case data, index, dictionary, dataV2 }
    var kind: Kind
    var uncompressedSize: Int
    var compressedSize: Int
    var numValues: Int = 0
    var encoding: Int64 = 0
    /// v1: the level encodings (RLE or the deprecated BIT_PACKED).
    var definitionEncoding: Int64 = 3
    var repetitionEncoding: Int64 = 3
    /// v2: level byte lengths and whether the values are compressed.
    var definitionBytes = 0
    var repetitionBytes = 0
    var valuesCompressed = true

    init(_ s: ThriftStruct) throws {
        let t = try s.require(1, "PageHeader.type")
        switch t {
        case 0: kind = .data
        case 1: kind = .index
        case 2: kind = .dictionary
        case 3: kind = .dataV2
        default: throw ColumnarError("unknown page type \(t)")
        }
        uncompressedSize = Int(clamping: try s.require(2, "PageHeader.uncompressed_page_size"))
        compressedSize = Int(clamping: try s.require(3, "PageHeader.compressed_page_size"))
        guard uncompressedSize >= 0, compressedSize >= 0 else { throw ColumnarError("negative page size") }
        switch kind {
        case .data:
            guard let h = s.structure(5) else { throw ColumnarError("data page without DataPageHeader") }
            numValues = Int(clamping: try h.require(1, "DataPageHeader.num_values"))
            encoding = try h.require(2, "DataPageHeader.encoding")
            definitionEncoding = h.int(3) ?? 3
            repetitionEncoding = h.int(4) ?? 3
        case .dictionary:
            guard let h = s.structure(7) else { throw ColumnarError("dictionary page without DictionaryPageHeader") }
            numValues = Int(clamping: try h.require(1, "DictionaryPageHeader.num_values"))
            encoding = h.int(2) ?? 0
        case .dataV2:
            guard let h = s.structure(8) else { throw ColumnarError("v2 data page without DataPageHeaderV2") }
            numValues = Int(clamping: try h.require(1, "DataPageHeaderV2.num_values"))
            encoding = try h.require(4, "DataPageHeaderV2.encoding")
            definitionBytes = Int(clamping: try h.require(5, "DataPageHeaderV2.definition_levels_byte_length"))
            repetitionBytes = Int(clamping: try h.require(6, "DataPageHeaderV2.repetition_levels_byte_length"))
            valuesCompressed = h.bool(7) ?? true
        case .index:
            break
        }
        guard numValues >= 0, definitionBytes >= 0, repetitionBytes >= 0 else { throw ColumnarError("negative page counts") }
    }
}
