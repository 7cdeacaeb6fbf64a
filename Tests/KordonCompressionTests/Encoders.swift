import Foundation

/// Writes real compressed streams with independent encoders: Python's `zlib`, `gzip`,
/// `lzma` and `bz2` modules and the `zstd` and `brotli` command-line tools.
enum Encoders {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs a Python script that reads the bytes of `input` from the file named by `sys.argv[1]`
    /// (as `data`) and writes its result to standard output.
    static func python(_ script: String, input: Data = Data()) throws -> Data {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("kordon-compression-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let inputFile = scratch.appendingPathComponent("in"), outputFile = scratch.appendingPathComponent("out")
        try input.write(to: inputFile)
        _ = FileManager.default.createFile(atPath: outputFile.path, contents: nil)
        let prelude = """
            import sys, zlib, gzip, lzma, bz2, subprocess
            data = open(sys.argv[1], 'rb').read()
            out = sys.stdout.buffer
            def tool(*args, stdin=None):
                return subprocess.run(list(args), input=stdin, stdout=subprocess.PIPE, check=True).stdout
            ZEROS = bytes(1 << 24)   # 16 MB, sixty-four of which make a gigabyte

            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", prelude + script, inputFile.path]
        process.standardOutput = try FileHandle(forWritingTo: outputFile)
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let diagnostics = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: String(decoding: diagnostics, as: UTF8.self))
        }
        return try Data(contentsOf: outputFile)
    }

    /// `input` compressed as `format` by the reference encoder of that format.
    static func encode(_ input: Data, _ format: String) throws -> Data {
        let scripts = [
            "zlib": "out.write(zlib.compress(data, 9))",
            "raw-deflate": "c = zlib.compressobj(9, zlib.DEFLATED, -15); out.write(c.compress(data) + c.flush())",
            "gzip": "out.write(gzip.compress(data))",
            "brotli": "out.write(tool('brotli', '-c', stdin=data))",
            "zstd": "out.write(tool('zstd', '-q', '-c', stdin=data))",
            "xz": "out.write(lzma.compress(data, format=lzma.FORMAT_XZ))",
            "lzma-alone": "out.write(lzma.compress(data, format=lzma.FORMAT_ALONE))",
            "bzip2": "out.write(bz2.compress(data))",
        ]
        guard let script = scripts[format] else { throw Failure(description: "no encoder for \(format)") }
        return try python(script, input: input)
    }
}

/// Text that compresses well, with a line of its own in each copy so no two runs match whole.
func sampleText(lines: Int = 2000) -> Data {
    Data((0..<lines).map { "Declaration line \($0): goods, customs value, origin KZ, destination RU.\n" }.joined().utf8)
}

/// Peak resident memory of this process so far, in bytes (getrusage's ru_maxrss).
func peakResidentBytes() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return usage.ru_maxrss * 1024
}
