import Foundation
import KordonCore
import Testing
@testable import KordonScanning

/// Zips that libclamav 1.4 opens otherwise than the receiver's unzip, or not at all,
/// and for which it says CLEAN: each is `unchecked` in Kordon. Every archive here is
/// written by Python's `zipfile`, then edited the way an attacker would, and Python
/// itself still reads the EICAR member out of each hostile one.
@Suite("Zips libclamav cannot fully open are unchecked", .timeLimit(.minutes(10)))
struct ClamContainerTests {
    /// Runs a Python script (``Fixtures/pythonFiles(helpers:_:)``) with this suite's helpers.
    private static func python(_ body: String) throws -> [String: Data] {
        try Fixtures.pythonFiles(helpers: helpers, body)
    }

    /// Python definitions the scripts of this suite share.
    private static let helpers = """
        def make(method, name='e.com', data=EICAR, **kw):
            b = io.BytesIO()
            with zipfile.ZipFile(b, 'w', method, **kw) as z: z.writestr(name, data)
            return b.getvalue()
        """

    /// The hostile archives, and the check that Python really recovers EICAR from each.
    private static let hostile = """
        out('lzma-member.zip', make(zipfile.ZIP_LZMA))
        clean = make(zipfile.ZIP_DEFLATED, 'a.txt', b'nothing to see here ' * 20)
        out('concatenated.zip', clean + make(zipfile.ZIP_DEFLATED))
        lying = bytearray(make(zipfile.ZIP_DEFLATED))
        struct.pack_into('<II', lying, 18, 10, 10)   # the local header's sizes
        out('local-sizes-lie.zip', bytes(lying))
        inner = make(zipfile.ZIP_LZMA)
        out('nested-lzma-member.zip', make(zipfile.ZIP_DEFLATED, 'inner.zip', inner))
        for name in os.listdir('out'):
            z = zipfile.ZipFile(os.path.join('out', name))
            data = z.read(z.namelist()[-1])
            if name.startswith('nested'): data = zipfile.ZipFile(io.BytesIO(data)).read('e.com')
            assert data.startswith(EICAR), name
        # Cut short: no central directory; streaming readers still read the local header.
        out('cut-lzma-member.zip', make(zipfile.ZIP_LZMA, 'e.com', EICAR + bytes(2000))[:-40])
        whole = make(zipfile.ZIP_DEFLATED, 'e.com', EICAR + os.urandom(3000))
        out('cut-deflate-member.zip', whole[:whole.find(b'PK\\x01\\x02') - 100])
        """

    @Test("a zip whose member libclamav cannot unpack, or reads otherwise than unzip, is held as unchecked",
          arguments: ["lzma-member.zip", "concatenated.zip", "local-sizes-lie.zip", "nested-lzma-member.zip",
                      "cut-lzma-member.zip", "cut-deflate-member.zip"])
    func hostileZip(_ name: String) throws {
        let data = try #require(try Self.python(Self.hostile)[name])
        // The same bytes twice: a flagged zip must not be cached as clean by libclamav.
        for _ in 0..<2 {
            let findings = try Fixtures.engine().scan(data, part: .message.mime([2]), filename: name)
            let unchecked = findings.stage(.unchecked)
            #expect(unchecked.contains { $0.rule.hasPrefix("Kordon.Archive.Zip.") }, "\(name): \(findings)")
            #expect(unchecked.allSatisfy { $0.part == "mime/2" && $0.action == .quarantine })
            #expect(!findings.contains { $0.rule.hasPrefix("Detected.By.Callback") || $0.rule == "clamav.unnamed" })
        }
    }

    @Test("the rule names what is wrong with the zip")
    func ruleNames() throws {
        let files = try Self.python(Self.hostile)
        let rules = { (name: String) throws -> Set<String> in
            Set(try Fixtures.engine().scan(try #require(files[name]), part: .message).map(\.rule))
        }
        #expect(try rules("lzma-member.zip").contains("Kordon.Archive.Zip.UnsupportedMethod.14"))
        #expect(try rules("concatenated.zip").contains("Kordon.Archive.Zip.UnlistedMember"))
        #expect(try rules("local-sizes-lie.zip").contains("Kordon.Archive.Zip.InconsistentHeaders"))
        #expect(try rules("cut-lzma-member.zip").contains("Kordon.Archive.Zip.UnsupportedMethod.14"))
        #expect(try rules("cut-deflate-member.zip").contains("Kordon.Archive.Zip.NoCentralDirectory"))
    }

    /// Ordinary zips, written the ways real tools write them: none is held.
    @Test("ordinary zips pass: stored, deflated, bzip2, data descriptors, directories, a stored zip inside")
    func ordinaryZips() throws {
        let files = try Self.python("""
            text = b'Declaration of goods, nothing restricted. ' * 50
            out('stored.zip', make(zipfile.ZIP_STORED, 'a.txt', text))
            out('deflated.zip', make(zipfile.ZIP_DEFLATED, 'a.txt', text))
            out('bzip2.zip', make(zipfile.ZIP_BZIP2, 'a.txt', text))
            b = io.BytesIO()
            with zipfile.ZipFile(b, 'w', zipfile.ZIP_DEFLATED) as z:
                z.writestr('a.txt', text)
                z.mkdir('folder')
                z.writestr('folder/b.txt', text)
            out('with-directory.zip', b.getvalue())
            class Unseekable(io.RawIOBase):
                def __init__(self): self.data = bytearray()
                def writable(self): return True
                def write(self, b): self.data += b; return len(b)
            s = Unseekable()
            with zipfile.ZipFile(s, 'w', zipfile.ZIP_DEFLATED) as z: z.writestr('a.txt', text)
            out('data-descriptors.zip', bytes(s.data))
            out('stored-zip-inside.zip', make(zipfile.ZIP_STORED, 'inner.zip', make(zipfile.ZIP_STORED, 'a.txt', text)))
            out('empty.zip', make(zipfile.ZIP_STORED, 'a.txt', b''))
            """)
        #expect(files.count == 7)
        for (name, data) in files.sorted(by: { $0.key < $1.key }) {
            let findings = try Fixtures.engine().scan(data, part: .message, filename: name)
            #expect(findings.isEmpty, "\(name): \(findings)")
        }
    }

    /// libclamav finds a member "out of file" when its local header leaves the sizes to zip64,
    /// as Info-ZIP's `zip` writes a file it reads from a pipe: Kordon unpacks such members
    /// itself (stored, deflate, bzip2) and scans them; one it cannot unpack holds the zip.
    @Test("a member behind a zip64 local header is unpacked by Kordon and scanned")
    func zip64LocalHeaders() throws {
        let files = try Self.python("""
            for method, tag in ((zipfile.ZIP_DEFLATED, 'deflate'), (zipfile.ZIP_BZIP2, 'bzip2'), (zipfile.ZIP_LZMA, 'lzma')):
                for kind, data in (('infected', EICAR + bytes(4096)), ('clean', b'harmless line\\n' * 300)):
                    b = io.BytesIO()
                    with zipfile.ZipFile(b, 'w', method) as z:
                        with z.open('a.bin', 'w', force_zip64=True) as f: f.write(data)
                    out(f'{kind}-{tag}.zip', b.getvalue())
            subprocess.run(['zip', '-q', '-9', 'piped.zip', '-'], input=EICAR + bytes(3000), check=True)
            out('infected-info-zip-from-pipe.zip', open('piped.zip', 'rb').read())
            """)
        for name in ["infected-deflate.zip", "infected-bzip2.zip", "infected-info-zip-from-pipe.zip"] {
            let findings = try Fixtures.engine().scan(try #require(files[name]), part: .message)
            #expect(findings.contains { $0.stage == .virus && $0.part == "zip-member" }, "\(name): \(findings)")
        }
        for name in ["clean-deflate.zip", "clean-bzip2.zip"] {
            #expect(try Fixtures.engine().scan(try #require(files[name]), part: .message).isEmpty, "\(name)")
        }
        let lzma = try Fixtures.engine().scan(try #require(files["clean-lzma.zip"]), part: .message)
        #expect(lzma.contains { $0.rule == "Kordon.Archive.Zip.Zip64LocalSizes" }, "\(lzma)")
    }

    @Test("ClamAV's own zipped test files are still found as viruses, not merely unchecked",
          arguments: ["clam.zip", "clam.bz2.zip", "clam.impl.zip", "clam.d64.zip"])
    func clamTestZips(_ name: String) throws {
        let data = try Data(contentsOf: Fixtures.clamTestFiles.appendingPathComponent(name))
        let findings = try Fixtures.engine().scan(data, part: .message, filename: name)
        #expect(!findings.stage(.virus).isEmpty, "\(name): \(findings)")
        #expect(findings.stage(.unchecked).isEmpty, "\(name): \(findings)")
    }
}
