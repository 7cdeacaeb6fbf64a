// The arguments of `KordonBench icap-load`.
import Foundation

/// What to send, where, and for how long.
///
///     KordonBench icap-load --port P --service NAME [--host 127.0.0.1] [--connections 8]
///                           [--seconds 10] [--warmup 2] [--unique] [--rate R] FILE|DIR...
///
/// Closed loop by default: each connection sends its next request as soon as the
/// previous answer is in, cycling through the files (connection i starts at file i).
/// With `--rate R`, an open loop: R requests per second in total, spread evenly over
/// the connections, latency counted from each request's scheduled send time (so a
/// server that falls behind is charged for the queue it builds). With `--unique`,
/// every request's body carries a per-request stamp (UniqueBody.swift), so no two
/// bodies of the run are equal and no server can answer from a cache.
struct ICAPLoadOptions: Sendable {
    var host = "127.0.0.1"
    var port: UInt16 = 0
    var service = ""
    var connections = 8
    var seconds = 10.0
    var warmup = 2.0
    var unique = false
    /// Requests per second in total (open loop), or nil (closed loop).
    var rate: Double?
    var files: [URL] = []

    init(_ arguments: [String]) {
        var iterator = arguments.makeIterator()
        guard iterator.next() == "icap-load" else { Self.usage("not the icap-load mode") }
        var paths: [String] = []
        while let argument = iterator.next() {
            switch argument {
            case "--host": host = Self.text(iterator.next(), argument)
            case "--port":
                guard let value = UInt16(Self.text(iterator.next(), argument)), value > 0 else { Self.usage("bad --port") }
                port = value
            case "--service": service = Self.text(iterator.next(), argument)
            case "--connections": connections = Int(Self.number(iterator.next(), argument, minimum: 1))
            case "--seconds": seconds = Self.number(iterator.next(), argument, minimum: 0.1)
            case "--warmup": warmup = Self.number(iterator.next(), argument, minimum: 0)
            case "--unique": unique = true
            case "--rate": rate = Self.number(iterator.next(), argument, minimum: 0.001)
            default:
                if argument.hasPrefix("--") { Self.usage("unknown option \(argument)") }
                paths.append(argument)
            }
        }
        guard port > 0 else { Self.usage("--port is required") }
        guard !service.isEmpty else { Self.usage("--service is required") }
        files = Self.expand(paths)
        guard !files.isEmpty else { Self.usage("no files to send") }
    }

    /// Files as given; a directory stands for its regular files, sorted by name.
    static func expand(_ paths: [String]) -> [URL] {
        var files: [URL] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { usage("no such file: \(path)") }
            guard isDirectory.boolValue else {
                files.append(URL(fileURLWithPath: path))
                continue
            }
            let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            for name in names.sorted() where !name.hasPrefix(".") {
                let url = URL(fileURLWithPath: path).appendingPathComponent(name)
                var nested: ObjCBool = false
                if FileManager.default.fileExists(atPath: url.path, isDirectory: &nested), !nested.boolValue { files.append(url) }
            }
        }
        return files
    }

    static func text(_ value: String?, _ option: String) -> String {
        guard let value, !value.isEmpty else { usage("\(option) needs a value") }
        return value
    }

    static func number(_ value: String?, _ option: String, minimum: Double) -> Double {
        guard let value, let number = Double(value), number >= minimum, number.isFinite else {
            usage("\(option) needs a number >= \(minimum)")
        }
        return number
    }

    static func usage(_ problem: String) -> Never {
        FileHandle.standardError.write(Data("""
            icap-load: \(problem)
            usage: KordonBench icap-load --port P --service NAME [--host 127.0.0.1] [--connections 8]
                                         [--seconds 10] [--warmup 2] [--unique] [--rate R] FILE|DIR...

            """.utf8))
        exit(2)
    }
}
