// The arguments of `KordonBench detection`.
import Foundation

/// The `detection` mode's arguments.
struct DetectionOptions {
    var megabytes = 100
    var rules = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("rules")
    var passes = 3
    /// Numbers in every sentence (a worst case: about a fifth of the bytes are digits).
    var numeric = false
    /// The compiled-database cache directory, if any.
    var cache: URL?

    init(_ arguments: [String]) {
        var iterator = arguments.makeIterator()
        guard iterator.next() == "detection" else { Self.usage() }
        while let argument = iterator.next() {
            switch argument {
            case "--mb": megabytes = Self.number(iterator.next())
            case "--rules":
                guard let path = iterator.next() else { Self.usage() }
                rules = URL(fileURLWithPath: path)
            case "--passes": passes = Self.number(iterator.next())
            case "--numeric": numeric = true
            case "--cache":
                guard let path = iterator.next() else { Self.usage() }
                cache = URL(fileURLWithPath: path)
            default: Self.usage()
            }
        }
    }

    static func number(_ text: String?) -> Int {
        guard let text, let value = Int(text), value > 0 else { usage() }
        return value
    }

    static func usage() -> Never {
        FileHandle.standardError.write(Data("usage: KordonBench detection [--mb N] [--numeric] [--rules DIR] [--passes P] [--cache DIR]\n".utf8))
        exit(2)
    }
}
