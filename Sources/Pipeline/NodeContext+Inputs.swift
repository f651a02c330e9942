import Foundation

extension NodeContext {
    /// The artifact folder of a single stage-reference field (nil when the optional field is unset).
    public func input(_ field: String) -> URL? { inputs[field] }

    /// The artifact folders of a list-of-stage-references field, in list order
    /// (the graph names them `field[0]`, `field[1]`, ...).
    public func inputList(_ field: String) -> [URL] {
        let prefix = field + "["
        return inputs.compactMap { key, url -> (Int, URL)? in
            guard key.hasPrefix(prefix), key.hasSuffix("]"),
                  let i = Int(key.dropFirst(prefix.count).dropLast()) else { return nil }
            return (i, url)
        }
        .sorted { $0.0 < $1.0 }
        .map(\.1)
    }
}
