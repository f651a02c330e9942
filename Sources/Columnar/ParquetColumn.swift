import Foundation

/// One column chunk decoded: a repetition and definition level per entry, and the values of the
/// entries defined down to the leaf, as JSON-like values (String, NSNumber, …).
struct ParquetColumnData {
    /// Empty when the column is not repeated (every level 0).
    var repetition: [Int32] = []
    /// Empty when the column is required all the way down (every level 0).
    var definition: [Int32] = []
    var values: [Any] = []
    var count = 0
}

/// Reads a column chunk's pages: dictionary, v1 and v2 data pages, compressed or not.
struct ParquetColumnReader {
    let file: [UInt8]
    let meta: ParquetColumnMeta
    let leaf: ParquetNode
    var dictionary: [Any]?
    var data = ParquetColumnData()

    init(file: [UInt8], meta: ParquetColumnMeta, leaf: ParquetNode) {
        self.file = file
        self.meta = meta
        self.leaf = leaf
    }

    var codec: ParquetCodec {
        get throws {
            guard let c = ParquetCodec(rawValue: meta.codec) else { throw ColumnarError("unknown compression codec \(meta.codec)") }
            return c
        }
    }

    /// A bound on one chunk's entries, so that a damaged count cannot allocate gigabytes of levels.
    static let maxValues = 1 << 27

    /// Every page of the chunk, until `num_values` entries are read.
    mutating func read() throws -> ParquetColumnData {
        guard meta.physical == leaf.element.physical else {
            throw ColumnarError("chunk type \(meta.physical.name) differs from the schema's \(leaf.element.physical?.name ?? "group")")
        }
        var start = meta.dataPageOffset
        if let d = meta.dictionaryPageOffset, d >= 4, d < start { start = d }
        let (end, overflow) = start.addingReportingOverflow(meta.totalCompressedSize)
        guard start >= 4, !overflow, end <= file.count else {
            throw ColumnarError("chunk bytes \(start)..<\(end) lie outside the file (\(file.count) bytes)")
        }
        guard meta.numValues >= 0, meta.numValues <= Self.maxValues else {
            throw ColumnarError("\(meta.numValues) values in one chunk (at most \(Self.maxValues) are read)")
        }
        var cursor = ByteCursor(file, from: start, to: end)
        var page = 0
        while data.count < meta.numValues {
            guard !cursor.atEnd else {
                throw ColumnarError("the chunk ends after \(data.count) of \(meta.numValues) values")
            }
            try columnarContext("page \(page)") {
                var thrift = ThriftCompactReader(cursor)
                let header = try ParquetPageHeader(try thrift.readStruct())
                cursor = thrift.cursor
                let payload = try cursor.take(header.compressedSize, "the page body")
                try readPage(header, payload)
            }
            page += 1
        }
        return data
    }

    mutating func readPage(_ h: ParquetPageHeader, _ payload: ArraySlice<UInt8>) throws {
        if h.kind == .data || h.kind == .dataV2, h.numValues > meta.numValues - data.count {
            throw ColumnarError("the pages hold more than the chunk's \(meta.numValues) values")
        }
        switch h.kind {
        case .index:
            return
        case .dictionary:
            let body = try ColumnarCodecs.decompress(payload, codec: try codec, size: h.uncompressedSize)
            guard h.encoding == 0 || h.encoding == 2 else { throw ColumnarError("dictionary page in \(ParquetEncoding.name(h.encoding))") }
            var c = ByteCursor(body)
            dictionary = try ParquetPlain.decode(&c, leaf: leaf, count: h.numValues)
        case .data:
            let body = try ColumnarCodecs.decompress(payload, codec: try codec, size: h.uncompressedSize)
            var c = ByteCursor(body)
            let rep = try levels(&c, max: leaf.maxRepetition, count: h.numValues, encoding: h.repetitionEncoding, prefixed: true)
            let def = try levels(&c, max: leaf.maxDefinition, count: h.numValues, encoding: h.definitionEncoding, prefixed: true)
            try append(rep, def, count: h.numValues, values: &c, encoding: h.encoding)
        case .dataV2:
            let levelBytes = h.repetitionBytes + h.definitionBytes
            guard levelBytes <= payload.count, levelBytes <= h.uncompressedSize else {
                throw ColumnarError("v2 page levels of \(levelBytes) bytes exceed the page")
            }
            let levelEnd = payload.startIndex + levelBytes
            var rc = ByteCursor(Array(payload[payload.startIndex..<payload.startIndex + h.repetitionBytes]))
            var dc = ByteCursor(Array(payload[payload.startIndex + h.repetitionBytes..<levelEnd]))
            let rep = try levels(&rc, max: leaf.maxRepetition, count: h.numValues, encoding: 3, prefixed: false)
            let def = try levels(&dc, max: leaf.maxDefinition, count: h.numValues, encoding: 3, prefixed: false)
            let rest = payload[levelEnd...]
            let size = h.uncompressedSize - levelBytes
            let body = h.valuesCompressed ? try ColumnarCodecs.decompress(rest, codec: try codec, size: size) : Array(rest)
            var c = ByteCursor(body)
            try append(rep, def, count: h.numValues, values: &c, encoding: h.encoding)
        }
    }

    /// A page's levels; nil when the column has none of this kind (its maximum level is 0).
    func levels(_ c: inout ByteCursor, max: Int, count: Int, encoding: Int64, prefixed: Bool) throws -> [Int32]? {
        guard max > 0 else { return nil }
        guard encoding == 3 else { throw ColumnarError("levels in \(ParquetEncoding.name(encoding)) are not supported (RLE is)") }
        var sub = c
        if prefixed {
            let n = Int(try c.int32())
            sub = ByteCursor(c.bytes, from: c.position, to: c.position + n)
            try c.skip(n)
        }
        let out = try ParquetRLE.decode(&sub, bitWidth: ParquetRLE.bitWidth(max), count: count)
        if let bad = out.first(where: { $0 < 0 || Int($0) > max }) { throw ColumnarError("level \(bad) exceeds the maximum \(max)") }
        return out
    }

    /// Adds a page's entries: levels, then the values of the entries defined down to the leaf.
    mutating func append(_ rep: [Int32]?, _ def: [Int32]?, count: Int, values c: inout ByteCursor, encoding: Int64) throws {
        if let rep { data.repetition += rep }
        if let def { data.definition += def }
        let defined = def.map { d in d.reduce(0) { $1 == Int32(leaf.maxDefinition) ? $0 + 1 : $0 } } ?? count
        data.count += count
        switch ParquetEncoding(rawValue: encoding) {
        case .plain:
            data.values += try ParquetPlain.decode(&c, leaf: leaf, count: defined)
        case .plainDictionary, .rleDictionary:
            guard let dictionary else { throw ColumnarError("dictionary-encoded page without a dictionary page") }
            let width = Int(try c.byte())
            let indices = try ParquetRLE.decode(&c, bitWidth: width, count: defined)
            data.values.reserveCapacity(data.values.count + defined)
            for i in indices {
                guard i >= 0, Int(i) < dictionary.count else { throw ColumnarError("dictionary index \(i) of \(dictionary.count)") }
                data.values.append(dictionary[Int(i)])
            }
        case .rle where leaf.element.physical == .boolean:
            let n = Int(try c.int32())
            var sub = ByteCursor(c.bytes, from: c.position, to: c.position + n)
            data.values += try ParquetRLE.decode(&sub, bitWidth: 1, count: defined).map { NSNumber(value: $0 != 0) }
        case let delta? where [.deltaBinaryPacked, .deltaLengthByteArray, .deltaByteArray, .byteStreamSplit].contains(delta):
            data.values += try ParquetDelta.decode(&c, leaf: leaf, count: defined, encoding: delta)
        default:
            throw ColumnarError("values in \(ParquetEncoding.name(encoding)) are not supported (PLAIN, PLAIN_DICTIONARY, "
                                + "RLE_DICTIONARY, RLE booleans, DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY, "
                                + "DELTA_BYTE_ARRAY and BYTE_STREAM_SPLIT are)")
        }
    }
}
