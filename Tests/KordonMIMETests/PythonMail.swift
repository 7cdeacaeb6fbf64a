import Foundation
import KordonMIME

/// Builds real MIME messages with Python's `email` package, the reference
/// implementation most mail tooling agrees with.
enum PythonMail {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Shared imports and helpers for every script.
    private static let prelude = """
        import sys, email, email.policy, email.encoders
        from email.message import EmailMessage
        from email.mime.multipart import MIMEMultipart
        from email.mime.base import MIMEBase
        from email.mime.application import MIMEApplication
        from email.mime.text import MIMEText
        def new():
            m = EmailMessage(policy=email.policy.SMTP)
            m['From'] = 'kz-gateway@customs.example.kz'
            m['To'] = 'ru-gateway@customs.example.ru'
            m['Subject'] = 'Declaration'
            return m
        def emit(m):
            sys.stdout.buffer.write(m.as_bytes(policy=email.policy.SMTP))
        def binary():
            return bytes(range(256)) * 40 + b'%PDF-1.4 tail'
        XML = b'<?xml version="1.0" encoding="UTF-8"?><GoodsDeclaration xmlns="urn:EEC:R:055:GoodsDeclaration:v1.1.0"/>'

        """

    /// Runs `script` (after the prelude) and returns what it wrote to standard output.
    static func build(_ script: String) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", prelude + script]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let diagnostics = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: String(decoding: diagnostics, as: UTF8.self))
        }
        return data
    }

    /// Runs `script` with `message` parsed by Python's `email` package as `m`
    /// (`email.policy.SMTP`) and returns what it printed: an independent reader's view.
    static func read(_ message: Data, _ script: String) throws -> String {
        let reader = """
            import sys, email, email.policy
            m = email.message_from_binary_file(sys.stdin.buffer, policy=email.policy.SMTP)

            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", reader + script]
        let input = Pipe()
        let output = Pipe()
        let errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        input.fileHandleForWriting.write(message)
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let diagnostics = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: String(decoding: diagnostics, as: UTF8.self))
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// The bytes of `binary()` in the prelude: a PDF-ish blob with every byte value.
    static let binary: Data = Data((0..<40).flatMap { _ in (0...255).map(UInt8.init) } + Array("%PDF-1.4 tail".utf8))

    /// The bytes of `XML` in the prelude.
    static let xml = Data(#"<?xml version="1.0" encoding="UTF-8"?><GoodsDeclaration xmlns="urn:EEC:R:055:GoodsDeclaration:v1.1.0"/>"#.utf8)
}

extension MIMEParseResult {
    /// Leaf paths as rendered in reports.
    var paths: [String] { leaves.map(\.part.path.description) }
    /// Finding rules, in order.
    var rules: [String] { findings.map(\.rule) }
    /// The leaf at `path`.
    func leaf(_ path: String) -> MIMELeaf? { leaves.first { $0.part.path.description == path } }
}
