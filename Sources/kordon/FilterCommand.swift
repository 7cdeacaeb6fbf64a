import ArgumentParser
import Foundation
import Kordon
import KordonCore

/// `kordon filter`: one message in, the passed message out.
struct FilterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "filter",
        abstract: "Filter one message: the passed message on stdout, nothing when quarantined.",
        discussion: """
        For pipe transports and scripts. Reads FILE (or stdin with - or no argument), writes \
        the message to stdout when it is clean (byte for byte) or sanitized (restricted data \
        masked, stripped or pseudonymized by the rule packs of its route), and nothing when \
        it is quarantined. Exit code 0 passed, 1 quarantined, 2 error.

        Example:
          kordon filter --report report.json < in.xml > out.xml
          kordon filter --from KZ --to RU declaration.xml > passed.xml
        """
    )

    @OptionGroup var engine: EngineOptions
    @OptionGroup var route: RouteOptions

    @Option(name: .long, help: ArgumentHelp("Write the JSON report to this file.", valueName: "file"))
    var report: String?

    @Argument(help: ArgumentHelp("The message file; - or nothing for stdin.", valueName: "file"))
    var file: String?

    func run() throws {
        let (pipeline, input, source) = try withStartupErrors { () throws -> (Pipeline, MessageInput, String) in
            let configuration = try engine.configuration()
            let (input, source) = try readInput(limit: configuration.limits.maxMessageSize)
            return (try engine.pipeline(configuration), input, source)
        }
        let result = pipeline.filter(input, source: source, route: route.route)
        if let report {
            do {
                try Data((result.report.jsonLine() + "\n").utf8).write(to: URL(fileURLWithPath: report))
            } catch {
                StandardError.write("kordon: cannot write the report to \(report): check the directory exists and is writable\n")
                throw ExitCode(2)
            }
        }
        if let output = result.output {
            FileHandle.standardOutput.write(output)
        }
        if result.report.verdict == .quarantined { throw ExitCode(1) }
    }

    /// The message, read a chunk at a time: one over `limit` is counted and digested
    /// to its end but never held, so its size costs no memory.
    private func readInput(limit: Int) throws -> (MessageInput, String) {
        guard let path = file, path != "-" else {
            do {
                return (try MessageReader.read(FileHandle.standardInput.fileDescriptor, limit: limit), "-")
            } catch {
                throw KordonError(code: "filter.input", message: "cannot read stdin: \(error.reason)")
            }
        }
        do {
            return (try MessageReader.read(path: path, limit: limit), path)
        } catch {
            throw KordonError(code: "filter.input", message: "cannot read \(path): check the path and its permissions")
        }
    }
}
