import ArgumentParser
import Foundation
import Kordon
import KordonCore

/// `kordon scan PATH...`: batch scanning of files and directories.
struct ScanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Scan files and directories of messages; one report per message.",
        discussion: """
        Directories are walked recursively. The rule packs that apply are chosen by route: \
        --from/--to, else what each document names, else every pack. Messages are scanned in parallel on all cores \
        (--jobs to change). With --format ndjson each report is one JSON object per line on \
        stdout; with --format text, one line per message and a total. On a terminal, progress \
        (count, rate, time left) goes to stderr.

        Examples:
          kordon scan fixtures/
          kordon scan --mode audit --from KZ --to RU archive/2025/
          kordon scan --format ndjson --schemas /srv/schemas inbox/ > reports.ndjson
        """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case ndjson, text
    }

    @OptionGroup var engine: EngineOptions
    @OptionGroup var route: RouteOptions

    @Option(name: .long, help: "enforce: verdicts as the filter decides them; audit: report every restricted-data match with the action the packs would take, change nothing.")
    var mode: RedactionMode = .enforce

    @Option(name: .long, help: "Report format: ndjson (one JSON object per line) or text.")
    var format: Format = .text

    @Option(name: .long, help: ArgumentHelp("Messages scanned at once (default: one per core).", valueName: "n"))
    var jobs: Int?

    @Argument(help: ArgumentHelp("Files and directories to scan.", valueName: "path"))
    var paths: [String]

    func validate() throws {
        if paths.isEmpty { throw ValidationError("give at least one file or directory to scan") }
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
    }

    func run() throws {
        let (pipeline, files, jobCount) = try withStartupErrors { () throws -> (Pipeline, [String], Int) in
            var configuration = try engine.configuration()
            if let jobs { configuration.scan.jobs = jobs }
            let files = try MessageSource.files(under: paths)
            return (try engine.pipeline(configuration, mode: mode), files, configuration.effectiveJobs)
        }
        let progress = Progress(total: files.count)
        let format = self.format
        let started = ContinuousClock.now
        let totals = BatchScanner(pipeline: pipeline, jobs: jobCount, route: route.route).run(files) { report, totals in
            progress.clear()
            switch format {
            case .ndjson: print(report.jsonLine())
            case .text: print(TextReport.line(for: report))
            }
            progress.show(totals)
        }
        progress.finish()
        let seconds = (ContinuousClock.now - started).seconds
        if format == .text { print(TextReport.summary(totals, seconds: seconds)) }
        if totals.quarantined > 0 { throw ExitCode(1) }
    }
}

extension RedactionMode: ExpressibleByArgument {}
