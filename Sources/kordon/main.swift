import ArgumentParser
import Foundation

// Exit codes are part of Kordon's interface: 0 every message passed, 1 at least
// one quarantined, 2 a usage or start-up error. ArgumentParser's own usage
// errors (EX_USAGE, 64) are mapped to 2 here.
do {
    var command = try await KordonCommand.asyncParseAsRoot()
    // `serve` runs on Swift's concurrency (AsyncParsableCommand); every other command is synchronous.
    if var asynchronous = command as? AsyncParsableCommand {
        try await runAsynchronously(&asynchronous)
    } else {
        try command.run()
    }
} catch let exit as ExitCode {
    Foundation.exit(exit.rawValue)
} catch {
    let code = KordonCommand.exitCode(for: error)
    if code == .success {
        // --help, --version: print to stdout and succeed.
        print(KordonCommand.fullMessage(for: error))
        Foundation.exit(0)
    }
    FileHandle.standardError.write(Data(("kordon: " + KordonCommand.fullMessage(for: error) + "\n").utf8))
    Foundation.exit(2)
}

/// Runs an async command's `run() async`. Called on the existential, overload
/// resolution picks ParsableCommand's synchronous `run()` (which prints the help);
/// on a generic type it picks the asynchronous one.
func runAsynchronously<Command: AsyncParsableCommand>(_ command: inout Command) async throws {
    try await command.run()
}
