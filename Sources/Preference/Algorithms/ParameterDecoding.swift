/// Decoding of parameter structs from partial configurations: absent keys keep the papers' defaults,
/// unknown keys are an error naming the key and the known ones.
enum ParameterDecoding {
    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// The keyed container of `decoder`, after checking that every key present is one of `K`'s.
    static func container<K: CodingKey & CaseIterable>(_ decoder: any Decoder, _ keys: K.Type,
                                                       owner: String) throws -> KeyedDecodingContainer<K> {
        let known = K.allCases.map(\.stringValue)
        let present = try decoder.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue)
        if let bad = present.first(where: { !known.contains($0) }) {
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath,
                debugDescription: "\(owner): unknown parameter '\(bad)'; known parameters: \(known.joined(separator: ", "))"))
        }
        return try decoder.container(keyedBy: K.self)
    }
}

extension KeyedDecodingContainer {
    /// Overwrites `value` when `key` is present.
    func update<T: Decodable>(_ value: inout T, _ key: Key) throws {
        if let v = try decodeIfPresent(T.self, forKey: key) { value = v }
    }

    /// Overwrites an optional `value` when `key` is present; an explicit null sets it to nil (e.g. disables a trick).
    func updateOptional<T: Decodable>(_ value: inout T?, _ key: Key) throws {
        guard contains(key) else { return }
        value = try decodeNil(forKey: key) ? nil : decode(T.self, forKey: key)
    }
}
