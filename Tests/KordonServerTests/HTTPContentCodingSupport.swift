import Foundation

/// `data` with an HTTP content coding applied by a reference encoder: Python's `gzip` and
/// `zlib` modules, the `brotli` and `zstd` tools. `coding` is what goes in the header,
/// except `deflate-raw` (raw deflate sent as `deflate`, as some servers do); a list
/// (`gzip, br`) is applied in order, as a server applies it.
func contentCoded(_ data: Data, _ coding: String) async throws -> Data {
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("kordon-coding-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: scratch) }
    let input = scratch.appendingPathComponent("in")
    try data.write(to: input)
    let script = """
        import sys, gzip, zlib, subprocess
        data = open(sys.argv[1], 'rb').read()
        def tool(*args):
            return subprocess.run(list(args), input=data, stdout=subprocess.PIPE, check=True).stdout
        for coding in [c.strip() for c in sys.argv[2].split(',')]:
            if coding in ('gzip', 'x-gzip'): data = gzip.compress(data)
            elif coding == 'deflate': data = zlib.compress(data)
            elif coding == 'deflate-raw':
                c = zlib.compressobj(6, zlib.DEFLATED, -15); data = c.compress(data) + c.flush()
            elif coding == 'br': data = tool('brotli', '-c')
            elif coding == 'zstd': data = tool('zstd', '-q', '-c')
            else: raise SystemExit('no encoder for ' + coding)
        sys.stdout.buffer.write(data)
        """
    let (status, stdout, stderr) = try await httpRun("/usr/bin/python3", ["-c", script, input.path, coding])
    guard status == 0 else { throw CodingError(description: "encoding \(coding) failed: \(stderr)") }
    return stdout
}

/// The header value for a coding list built by ``contentCoded(_:_:)``.
func contentEncodingHeader(_ coding: String) -> String { coding.replacingOccurrences(of: "deflate-raw", with: "deflate") }

/// Why an encoder failed.
struct CodingError: Error, CustomStringConvertible {
    var description: String
}

/// A gzip body that decodes to `size` zeros: a decompression bomb when `size` is over the limit.
func gzipBomb(size: Int) async throws -> Data {
    let (status, stdout, stderr) = try await httpRun("/usr/bin/python3", ["-c", """
        import sys, zlib
        c = zlib.compressobj(9, zlib.DEFLATED, 31)
        block = bytes(1 << 20)
        sys.stdout.buffer.write(b''.join(c.compress(block) for _ in range(\(size) >> 20)) + c.flush())
        """])
    guard status == 0 else { throw CodingError(description: stderr) }
    return stdout
}
