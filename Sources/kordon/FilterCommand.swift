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
        let (pipeline, data, source) = try withStartupErrors { () throws -> (Pipeline, Data, String) in
            let configuration = try engine.configuration()
            let (data, source) = try readInput()
            return (try engine.pipeline(configuration), data, source)
        }
        let result = pipeline.filter(data, source: source, route: route.route)
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

    private func readInput() throws -> (Data, String) {
        if file == nil || file == "-" {
            return (FileHandle.standardInput.readDataToEndOfFile(), "-")
        }
        guard let path = file, let data = FileManager.default.contents(atPath: path) else {
            throw KordonError(code: "filter.input", message: "cannot read \(file ?? "-"): check the path and its permissions")
        }
        return (data, path)
    }
}
