import Foundation
import KordonTestSupport
import Testing

/// `serve.watch`: a change under the rule-pack directory reloads the engines; a pack
/// that no longer loads keeps the old engines running and says why.
@Suite("kordon serve: watching resources", .timeLimit(.minutes(10)))
struct ServeWatchTests {
    @Test("editing a rule pack reloads; breaking one keeps the old engines and logs why")
    func watchReloads() async throws {
        let setup = try SpoolServeSetup()
        defer { setup.remove() }
        // A private copy of the shipped packs, watched instead of the checkout's.
        let rules = setup.directory.appendingPathComponent("rules")
        try FileManager.default.copyItem(at: repositoryRoot.appendingPathComponent("rules"), to: rules)
        let yaml = try String(contentsOf: setup.config, encoding: .utf8) + """

        rules:
          builtin: false
          directories: [\(rules.path)]
          pseudonymKeyFile: \(setup.directory.appendingPathComponent("state/pseudonym.key").path)
        """
        try Data(yaml.replacingOccurrences(of: "serve:\n", with: "serve:\n  watch: true\n").utf8).write(to: setup.config)
        let server = try SpoolServer(config: setup.config, log: setup.log)
        #expect(await spoolEventually { setup.starts == 1 }, "\(setup.logText)")

        let pack = rules.appendingPathComponent("KZ.yaml")
        let text = try String(contentsOf: pack, encoding: .utf8)
        try Data(text.replacingOccurrences(of: "version: 2026.12.1", with: "version: 2026.12.2").utf8).write(to: pack)
        #expect(await spoolEventually { setup.logText.contains("reloaded") }, "\(setup.logText)")

        try Data((text + "\nnonsense: true\n").utf8).write(to: pack)
        #expect(await spoolEventually { setup.logText.contains("reload failed") }, "\(setup.logText)")
        // Still serving on the engines it had.
        let message = try spoolDeclarations(count: 1, seed: 41)[0]
        try setup.spool.drop(message, as: "still-served.xml")
        #expect(await spoolEventually { setup.spool.names(in: setup.spool.outbox) == ["still-served.xml"] })
        #expect(server.stop(SIGTERM) == 0)
    }
}
