import ArgumentParser
import Foundation
import Kordon
import KordonCore
import KordonRules

/// `kordon rules`: the national rule packs — what they hold, and what they would do to a message.
struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "List the rule packs, or show what they would do to a message.",
        discussion: """
        One pack per state in rules/ (KZ, RU, BY, KG, AM) plus EAEU for what all share; \
        --rules DIR adds packs. The packs in force for a message are chosen by its route.
        """,
        subcommands: [List.self, Test.self]
    )

    /// `kordon rules list`.
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List every loaded pack: version, legal basis, detectors, markings, element rules.")

        @OptionGroup var engine: EngineOptions

        func run() throws {
            let library = try withStartupErrors { () throws -> RuleLibrary in
                let configuration = try engine.configuration()
                return try RuleLibrary.load(directories: try configuration.ruleDirectories(), pseudonymKey: nil)
            }
            for pack in library.packs {
                print("\(pack.id) \(pack.version)  \(pack.source.path)")
                print("  legal basis: \(pack.legalBasis)")
                print("  categories:  \(pack.categories.map(\.rawValue).joined(separator: ", "))")
                for detector in pack.detectors {
                    print("  detector  \(pad(detector.id, 24)) \(pad(detector.category.rawValue, 18)) \(detector.action.rawValue)")
                }
                for marking in pack.markings {
                    print("  marking   \(pad(marking.id, 24)) \(marking.phrases.joined(separator: " | "))")
                }
                for rule in pack.elementRules {
                    print("  element   \(pad(rule.id, 24)) \(pad(rule.action.rawValue, 18)) \(rule.xpath)")
                }
            }
        }
    }

    /// `kordon rules test FILE`.
    struct Test: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show what the packs would do to one message; nothing is written or changed.",
            discussion: """
            Runs the whole filter on FILE, as `kordon filter` would, and prints the route, the \
            packs in force, every restricted-data and marking finding (rule, category, place, \
            action, masked form) and the verdict. Exit code 0 when the filter would pass the \
            message, 1 when it would hold it.

            Example:
              kordon rules test --from KZ --to RU fixtures/restricted/declaration-person.xml
            """)

        @OptionGroup var engine: EngineOptions
        @OptionGroup var route: RouteOptions

        @Argument(help: ArgumentHelp("The message to test.", valueName: "file"))
        var file: String

        func run() throws {
            let (pipeline, data) = try withStartupErrors { () throws -> (Pipeline, Data) in
                let configuration = try engine.configuration()
                guard let data = FileManager.default.contents(atPath: file) else {
                    throw KordonError(code: "rules.input", message: "cannot read \(file): check the path and its permissions")
                }
                return (try engine.pipeline(configuration), data)
            }
            let result = pipeline.filter(data, source: file, route: route.route)
            let report = result.report
            let from = report.message.route?.from ?? "?", to = report.message.route?.to ?? "?"
            print("route \(from) → \(to); packs \(report.engine.rules)")
            let restricted = report.findings.filter { $0.stage == .restricted || $0.stage == .marking }
            for finding in restricted {
                print("  \(pad(finding.action.rawValue, 12)) \(pad(finding.rule, 22)) \(pad(finding.category ?? "", 18)) \(finding.part)  \(finding.masked ?? "")")
            }
            if restricted.isEmpty { print("  no restricted data or markings found") }
            let others = report.findings.count - restricted.count
            if others > 0 { print("  and \(others) other finding(s): see `kordon scan --format ndjson \(file)`") }
            switch report.verdict {
            case .clean: print("verdict: clean (the filter would pass it unchanged)")
            case .sanitized: print("verdict: sanitized (the filter would pass a sanitized copy of \(result.output?.count ?? 0) bytes)")
            case .quarantined: print("verdict: quarantined (the filter would hold it)")
            }
            if report.verdict == .quarantined { throw ExitCode(1) }
        }
    }
}

/// `text` padded with spaces to `width` characters.
private func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}
