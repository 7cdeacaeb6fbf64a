import Foundation
import KordonCore
import Testing
@testable import KordonScanning

/// A container libclamav met and unpacked nothing from, though it holds content, is
/// `unchecked`: 7-Zip's own archives compressed with a coder libclamav lacks are the
/// real case (libclamav 1.4 says CLEAN for a 7z of BZip2 or Deflate, which `7zz x` reads).
@Suite("Containers libclamav opens nothing of are unchecked", .timeLimit(.minutes(10)))
struct ClamUnopenedContainerTests {
    /// Archives EICAR (or harmless text) with Debian's 7-Zip, using `method` for its content.
    private static func sevenZip(method: String, payload: Data) throws -> Data {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try payload.write(to: directory.appendingPathComponent("payload.com"))
        try Fixtures.run("7zz", ["a", "-bso0", "-m0=\(method)", "out.7z", "payload.com"], in: directory)
        return try Data(contentsOf: directory.appendingPathComponent("out.7z"))
    }

    @Test("a 7z whose coder libclamav lacks is unchecked", arguments: ["BZip2", "Deflate"])
    func unsupportedCoder(_ method: String) throws {
        let archive = try Self.sevenZip(method: method, payload: Fixtures.eicar)
        for _ in 0..<2 {
            let findings = try Fixtures.engine().scan(archive, part: .message.mime([1]), filename: "a.7z")
            #expect(findings.contains { $0.stage == .unchecked && $0.rule == "Kordon.Archive.Unopened.7Z" && $0.part == "mime/1" },
                    "\(method): \(findings)")
        }
    }

    @Test("a 7z libclamav opens is scanned as before: the virus is found, harmless content passes",
          arguments: ["LZMA", "LZMA2", "PPMd", "Copy"])
    func supportedCoder(_ method: String) throws {
        let infected = try Self.sevenZip(method: method, payload: Fixtures.eicar)
        let findings = try Fixtures.engine().scan(infected, part: .message)
        #expect(!findings.stage(.virus).isEmpty && findings.stage(.unchecked).isEmpty, "\(method): \(findings)")
        let harmless = try Self.sevenZip(method: method, payload: Data(String(repeating: "a harmless line\n", count: 40).utf8))
        #expect(try Fixtures.engine().scan(harmless, part: .message).isEmpty)
    }

    @Test("an archive of an empty file holds nothing to open and passes")
    func emptyArchive() throws {
        let archive = try Self.sevenZip(method: "LZMA2", payload: Data())
        #expect(try Fixtures.engine().scan(archive, part: .message).isEmpty)
    }

    @Test("ClamAV's own test archives are still found as viruses", arguments: ["clam.7z", "clam.tar.gz", "clam.exe.bz2", "clam.cab", "clam.arj"])
    func clamTestArchives(_ name: String) throws {
        let data = try Data(contentsOf: Fixtures.clamTestFiles.appendingPathComponent(name))
        let findings = try Fixtures.engine().scan(data, part: .message, filename: name)
        #expect(!findings.stage(.virus).isEmpty, "\(name): \(findings)")
        #expect(findings.stage(.unchecked).isEmpty, "\(name): \(findings)")
    }

    /// A RAR 2.0 archive holding one stored file, written byte by byte (Debian has no RAR
    /// writer; `unrar-free -x` extracts this one), and the `unrar-free` check of it.
    private static func rar(_ payload: Data) throws -> Data {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try payload.write(to: directory.appendingPathComponent("payload"))
        try Fixtures.run("python3", ["-c", """
            import struct, zlib
            def block(kind, flags, body):
                head = struct.pack('<BHH', kind, flags, 7 + len(body)) + body
                return struct.pack('<H', zlib.crc32(head) & 0xFFFF) + head
            data = open('payload', 'rb').read()
            name = b'payload.com'
            member = struct.pack('<IIBIIBBHI', len(data), len(data), 3, zlib.crc32(data), 0x5A000000, 20, 0x30, len(name), 0x20) + name
            archive = b'Rar!\\x1a\\x07\\x00' + block(0x73, 0, bytes(6)) + block(0x74, 0x8000, member) + data + block(0x7B, 0x4000, b'')
            open('out.rar', 'wb').write(archive)
            """], in: directory)
        return try Data(contentsOf: directory.appendingPathComponent("out.rar"))
    }

    @Test("a RAR is unchecked: Debian's libclamav has no unrar, so it opens none")
    func rarArchive() throws {
        for payload in [Fixtures.eicar, Data(String(repeating: "a harmless line\n", count: 40).utf8)] {
            let findings = try Fixtures.engine().scan(try Self.rar(payload), part: .message, filename: "a.rar")
            #expect(findings.contains { $0.stage == .unchecked && $0.rule == "Kordon.Archive.Unopened.RAR" }, "\(findings)")
        }
    }

    @Test("a raw deflate stream (no header, as zlib.decompress(data, -15) reads) is decoded and scanned")
    func rawDeflate() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Fixtures.eicar.write(to: directory.appendingPathComponent("eicar"))
        try Fixtures.run("python3", ["-c", """
            import zlib
            payload = b'filler line of a declaration\\n' * 70 + open('eicar', 'rb').read() + b'\\n' * 10
            c = zlib.compressobj(wbits=-15)
            open('raw', 'wb').write(c.compress(payload) + c.flush())
            c = zlib.compressobj(wbits=-15)
            open('clean', 'wb').write(c.compress(b'nothing here\\n' * 300) + c.flush())
            """], in: directory)
        let infected = try Fixtures.engine().scan(try Data(contentsOf: directory.appendingPathComponent("raw")), part: .message)
        #expect(infected.contains { $0.stage == .virus && $0.part == "decoded:raw-deflate" }, "\(infected)")
        #expect(try Fixtures.engine().scan(try Data(contentsOf: directory.appendingPathComponent("clean")), part: .message).isEmpty)
    }
}
