import ArgumentParser
import Foundation
import Kordon
import KordonCore

/// The options every command that scans shares: where the configuration,
/// signatures and schemas come from.
struct EngineOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("A YAML configuration file (limits, sources, jobs).", valueName: "file"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp("A further ClamAV signature directory or database file; repeatable.", valueName: "dir"))
    var signatures: [String] = []

    @Option(name: .long, help: ArgumentHelp("A further directory of agreed XSDs, registered by target namespace; repeatable.", valueName: "dir"))
    var schemas: [String] = []

    @Option(name: .long, help: ArgumentHelp("A further directory of rule packs (*.yaml); repeatable.", valueName: "dir"))
    var rules: [String] = []

    /// The configuration: embedded defaults, then the file, then the options.
    func configuration() throws -> Configuration {
        var configuration = Configuration()
        if let config { configuration = try ConfigurationFile.load(config, over: configuration) }
        configuration.signatures.directories += signatures
        configuration.schemas.directories += schemas
        configuration.rules.directories += rules
        return configuration
    }

    /// Builds the engines, turning a start-up failure into a clear message and exit code 2.
    func pipeline(_ configuration: Configuration, mode: RedactionMode = .enforce) throws -> Pipeline {
        do {
            return Pipeline(engines: try EngineSet(configuration: configuration), mode: mode)
        } catch let error as KordonError {
            throw StartupFailure(error: error)
        }
    }
}

/// `--from` and `--to`: the route, which decides the rule packs.
struct RouteOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Sending state (KZ, RU, BY, KG, AM); default: read from the document.", valueName: "cc"))
    var from: String?

    @Option(name: .long, help: ArgumentHelp("Receiving state; default: read from the document. Unknown: every pack applies.", valueName: "cc"))
    var to: String?

    func validate() throws {
        for (name, code) in [("--from", from), ("--to", to)] {
            if let code, !Report.Route.isStateCode(code) {
                throw ValidationError("\(name) takes a two-letter state code such as KZ or RU")
            }
        }
    }

    /// The route, or `nil` when neither is given.
    var route: Report.Route? {
        from == nil && to == nil ? nil : Report.Route(from: from?.uppercased(), to: to?.uppercased())
    }
}

/// A start-up error: printed as one line, exit code 2, no stack trace.
struct StartupFailure: Error, CustomStringConvertible {
    let error: KordonError
    var description: String { error.description }
}

/// Writes to standard error.
enum StandardError {
    static func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}

/// Runs `body`, turning Kordon's own errors into a one-line message and exit code 2.
func withStartupErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let failure as StartupFailure {
        StandardError.write("kordon: \(failure.description)\n")
        throw ExitCode(2)
    } catch let error as KordonError {
        StandardError.write("kordon: \(error.description)\n")
        throw ExitCode(2)
    }
}
