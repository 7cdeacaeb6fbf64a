import KordonCore
import Yams

/// Typed access to the YAML nodes of one pack file; every error names the file,
/// the line and the key, as `kordon config check` does for the configuration.
struct PackReader {
    /// The file name used in errors.
    let file: String

    /// A `rules.pack.invalid` error at `node`'s line.
    func fail(_ node: Node?, _ key: String, _ what: String) -> KordonError {
        fail(line: node?.mark?.line, key, what)
    }

    /// A `rules.pack.invalid` error at `line`.
    func fail(line: Int?, _ key: String, _ what: String) -> KordonError {
        let place = line.map { "\(file):\($0)" } ?? file
        let subject = key.isEmpty ? "the pack" : key
        return KordonError(code: "rules.pack.invalid", message: "\(place): \(subject) \(what)")
    }

    /// A mapping whose keys must all be in `known` and include every key of `required`.
    func mapping(_ node: Node, at key: String, known: [String], required: [String] = []) throws -> Fields {
        guard let mapping = node.mapping else { throw fail(node, key, "must be a mapping of keys to values") }
        var fields = Fields(node: node)
        for (name, value) in mapping {
            guard let text = name.string, name.scalar != nil else { throw fail(name, key, "has a key that is not a string") }
            let place = key.isEmpty ? text : "\(key).\(text)"
            guard known.contains(text) else {
                throw fail(name, place, "is not a known key; known here: \(known.joined(separator: ", "))")
            }
            fields.values[text] = value
        }
        for name in required where fields.values[name] == nil {
            throw fail(node, key, "lacks the required key `\(name)`")
        }
        return fields
    }

    /// A mapping with free keys (namespace prefixes, categories), in file order.
    func pairs(_ node: Node, at key: String) throws -> [(key: Node, name: String, value: Node)] {
        guard let mapping = node.mapping else { throw fail(node, key, "must be a mapping of keys to values") }
        return try mapping.map { name, value in
            guard let text = name.string, name.scalar != nil else { throw fail(name, key, "has a key that is not a string") }
            return (name, text, value)
        }
    }

    /// A list.
    func sequence(_ node: Node, at key: String) throws -> [Node] {
        guard let sequence = node.sequence else { throw fail(node, key, "must be a list") }
        return Array(sequence)
    }

    /// A non-empty string.
    func string(_ node: Node, at key: String) throws -> String {
        guard node.scalar != nil, let value = node.string, !value.isEmpty else {
            throw fail(node, key, "must be a non-empty string")
        }
        return value
    }

    /// A non-empty list of non-empty strings.
    func strings(_ node: Node, at key: String) throws -> [String] {
        let items = try sequence(node, at: key)
        guard !items.isEmpty else { throw fail(node, key, "must list at least one entry") }
        return try items.enumerated().map { try string($1, at: "\(key)[\($0)]") }
    }

    /// `true` or `false`.
    func bool(_ node: Node, at key: String) throws -> Bool {
        guard let value = node.bool else { throw fail(node, key, "must be true or false") }
        return value
    }

    /// A whole number within `range`.
    func int(_ node: Node, at key: String, in range: ClosedRange<Int>) throws -> Int {
        guard let value = node.int, range.contains(value) else {
            throw fail(node, key, "must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// One of the raw values of `T`.
    func choice<T: RawRepresentable & CaseIterable>(_ node: Node, at key: String, among allowed: [T] = Array(T.allCases)) throws -> T
    where T.RawValue == String {
        let text = try string(node, at: key)
        guard let value = T(rawValue: text), allowed.contains(where: { $0.rawValue == value.rawValue }) else {
            throw fail(node, key, "must be one of \(allowed.map(\.rawValue).joined(separator: ", ")), not `\(text)`")
        }
        return value
    }

    /// The fields of one mapping, with the mapping node for errors about missing keys.
    struct Fields {
        /// The mapping itself.
        let node: Node
        /// Key → value node.
        var values: [String: Node] = [:]
        /// The value under `key`, if present.
        subscript(_ key: String) -> Node? { values[key] }
    }
}
