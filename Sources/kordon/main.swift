import ArgumentParser
import Foundation

// Exit codes are part of Kordon's interface: 0 every message passed, 1 at least
// one quarantined, 2 a usage or start-up error. ArgumentParser's own usage
// errors (EX_USAGE, 64) are mapped to 2 here.
do {
    var command = try KordonCommand.parseAsRoot()
    try command.run()
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
