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

    /// The configuration: embedded defaults, then the file, then the options.
    func configuration() throws -> Configuration {
        var configuration = Configuration()
        if let config { configuration = try ConfigurationFile.load(config, over: configuration) }
        configuration.signatures.directories += signatures
        configuration.schemas.directories += schemas
        return configuration
    }

    /// Builds the engines, turning a start-up failure into a clear message and exit code 2.
    func pipeline(_ configuration: Configuration) throws -> Pipeline {
        do {
            return Pipeline(engines: try EngineSet(configuration: configuration))
        } catch let error as KordonError {
            throw StartupFailure(error: error)
        }
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
