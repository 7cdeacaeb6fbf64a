import Foundation
import KordonCore
import Yams

/// Reads one pack file (see `rules/README.md` for the format) into a ``RulePack``.
///
/// Unknown keys, unknown validators, undeclared categories or prefixes, patterns
/// Hyperscan rejects or cannot bound are all `rules.pack.invalid` errors naming the
/// file and line: a typo must never silently switch a protection off.
enum PackLoader {
    /// Loads and checks the pack at `url`.
    static func load(_ url: URL) throws -> RulePack {
        guard let data = FileManager.default.contents(atPath: url.path),
              let text = String(data: data, encoding: .utf8) else {
            throw KordonError(code: "rules.pack.invalid", message: "\(url.path): cannot read the pack as UTF-8 text")
        }
        return try parse(text, source: url)
    }

    /// Parses pack text; `source` names it in errors.
    static func parse(_ text: String, source: URL) throws -> RulePack {
        let file = source.path
        let reader = PackReader(file: file)
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw reader.fail(line: error.line, "", "is not valid YAML: \(error.problem)")
        } catch {
            throw reader.fail(line: nil, "", "is not valid YAML: \(error)")
        }
        guard let root else { throw reader.fail(line: nil, "", "is empty") }
        let top = try reader.mapping(root, at: "", known: [
            "pack", "version", "title", "legalBasis", "categories", "uneditable",
            "detectors", "markings", "namespaces", "elementRules",
        ], required: ["pack", "version", "title", "legalBasis", "categories", "uneditable"])

        let id = try reader.string(top["pack"]!, at: "pack")
        guard id.range(of: "^[A-Z]{2,8}$", options: .regularExpression) != nil else {
            throw reader.fail(top["pack"], "pack", "must be 2 to 8 capital Latin letters (a state code or EAEU)")
        }
        var pack = RulePack(
            id: id, version: try reader.string(top["version"]!, at: "version"),
            title: try reader.string(top["title"]!, at: "title"),
            legalBasis: try reader.strings(top["legalBasis"]!, at: "legalBasis"), source: source,
            line: top["pack"]?.mark?.line ?? 1,
            categories: [], uneditable: [:], detectors: [], markings: [], namespaces: [:], elementRules: [],
            ruleLines: [:])
        let categoryNodes = try reader.sequence(top["categories"]!, at: "categories")
        pack.categories = try categoryNodes.enumerated().map { try reader.choice($1, at: "categories[\($0)]") }
        var rules = RuleReader(reader: reader, pack: pack)
        pack.uneditable = try rules.uneditable(top["uneditable"]!)
        if let node = top["namespaces"] { pack.namespaces = try rules.namespaces(node) }
        rules.pack.namespaces = pack.namespaces
        if let node = top["detectors"] {
            pack.detectors = try reader.sequence(node, at: "detectors").enumerated().map { try rules.detector($1, at: "detectors[\($0)]") }
        }
        if let node = top["markings"] {
            pack.markings = try reader.sequence(node, at: "markings").enumerated().map { try rules.marking($1, at: "markings[\($0)]") }
        }
        if let node = top["elementRules"] {
            pack.elementRules = try reader.sequence(node, at: "elementRules").enumerated().map { try rules.elementRule($1, at: "elementRules[\($0)]") }
        }
        pack.ruleLines = rules.lines
        return pack
    }
}

/// The rules of one pack, checked against the pack's declarations as they are read.
private struct RuleReader {
    let reader: PackReader
    var pack: RulePack
    /// Rule id → line, to refuse an id used twice.
    var lines: [String: Int] = [:]

    init(reader: PackReader, pack: RulePack) {
        self.reader = reader
        self.pack = pack
    }

    func uneditable(_ node: Node) throws -> [RestrictedCategory: RuleAction] {
        var policy: [RestrictedCategory: RuleAction] = [:]
        for (key, name, value) in try reader.pairs(node, at: "uneditable") {
            guard let category = RestrictedCategory(rawValue: name), pack.categories.contains(category) else {
                throw reader.fail(key, "uneditable.\(name)", "is not one of the pack's categories (\(pack.categories.map(\.rawValue).joined(separator: ", ")))")
            }
            policy[category] = try reader.choice(value, at: "uneditable.\(name)", among: [RuleAction.quarantine, .report])
        }
        for category in pack.categories where policy[category] == nil {
            throw reader.fail(node, "uneditable", "gives no policy (quarantine or report) for category \(category.rawValue)")
        }
        return policy
    }

    func namespaces(_ node: Node) throws -> [String: [String]] {
        var namespaces: [String: [String]] = [:]
        for (key, prefix, value) in try reader.pairs(node, at: "namespaces") {
            guard prefix.range(of: "^[A-Za-z_][A-Za-z0-9_.-]*$", options: .regularExpression) != nil else {
                throw reader.fail(key, "namespaces.\(prefix)", "is not a valid XML namespace prefix")
            }
            let uris = try reader.strings(value, at: "namespaces.\(prefix)")
            let items = try reader.sequence(value, at: "namespaces.\(prefix)")
            for (index, uri) in uris.enumerated() {
                do {
                    _ = try NamespacePattern.parse(uri)
                } catch {
                    throw reader.fail(items[index], "namespaces.\(prefix)[\(index)]", error.message)
                }
            }
            namespaces[prefix] = uris
        }
        return namespaces
    }

    mutating func detector(_ node: Node, at key: String) throws -> Detector {
        let fields = try reader.mapping(node, at: key, known: ["id", "title", "category", "pattern", "validator", "context", "action"],
                                        required: ["id", "category", "pattern"])
        let id = try ruleID(fields["id"]!, at: "\(key).id")
        let category = try category(fields["category"]!, at: "\(key).category")
        let patternNode = fields["pattern"]!
        let pattern = try reader.string(patternNode, at: "\(key).pattern")
        if let problem = PatternLint.problem(in: pattern) { throw reader.fail(patternNode, "\(key).pattern", problem) }
        let width: (minimum: Int, maximum: Int?)
        do {
            width = try HyperscanDatabase.width(of: pattern)
        } catch {
            throw reader.fail(patternNode, "\(key).pattern", "is rejected by Hyperscan: \(error.message)")
        }
        guard let maximum = width.maximum, maximum <= 64, width.minimum > 0 else {
            throw reader.fail(patternNode, "\(key).pattern", "must match between 1 and 64 bytes (use bounded repeats such as [0-9]{12})")
        }
        var validator: Validator?
        if let node = fields["validator"] {
            let name = try reader.string(node, at: "\(key).validator")
            guard let known = Validators.all[name] else {
                throw reader.fail(node, "\(key).validator", "names no known validator `\(name)`; known: \(Validators.names.joined(separator: ", "))")
            }
            validator = known
        }
        let context = try fields["context"].map { try contextRule($0, at: "\(key).context") }
        let defaultAction: RuleAction = switch category {
        case .personalData, .taxBankSecret: .mask
        case .publicRegistry: .report
        case .stateSecret, .officialUse, .commercialSecret: .quarantine
        }
        let action = try fields["action"].map {
            try reader.choice($0, at: "\(key).action", among: [RuleAction.strip, .mask, .pseudonymize, .quarantine, .report])
        } ?? defaultAction
        return Detector(id: id, pack: pack.id, category: category, pattern: pattern,
                        fixedWidth: width.minimum == maximum ? maximum : nil, validator: validator,
                        context: context, action: action, file: reader.file, line: patternNode.mark?.line ?? 0)
    }

    func contextRule(_ node: Node, at key: String) throws -> ContextRule {
        let fields = try reader.mapping(node, at: key, known: ["words", "unless", "required", "before", "after"], required: ["words"])
        func contextWords(_ field: String) throws -> [ContextWord] {
            guard let list = fields[field] else { return [] }
            return try reader.strings(list, at: "\(key).\(field)").map { text -> ContextWord in
                let isStem = text.hasSuffix("*")
                let word = isStem ? String(text.dropLast()) : text
                let folded = Folding.fold(word.split(whereSeparator: \.isWhitespace).joined(separator: " "))
                guard !folded.isEmpty else { throw reader.fail(list, "\(key).\(field)", "holds an empty word") }
                return ContextWord(text: word, folded: folded, isStem: isStem)
            }
        }
        return ContextRule(
            words: try contextWords("words"),
            unlessInPlace: try contextWords("unless"),
            required: try fields["required"].map { try reader.bool($0, at: "\(key).required") } ?? false,
            before: try fields["before"].map { try reader.int($0, at: "\(key).before", in: 0...256) } ?? 48,
            after: try fields["after"].map { try reader.int($0, at: "\(key).after", in: 0...256) } ?? 16)
    }

    mutating func marking(_ node: Node, at key: String) throws -> Marking {
        let fields = try reader.mapping(node, at: key, known: ["id", "title", "category", "phrases", "standalone", "action"],
                                        required: ["id", "category", "phrases"])
        let id = try ruleID(fields["id"]!, at: "\(key).id")
        let phrasesNode = fields["phrases"]!
        let phrases = try reader.strings(phrasesNode, at: "\(key).phrases")
        for phrase in phrases where Folding.fold(phrase).allSatisfy({ Folding.isSpace($0) }) {
            throw reader.fail(phrasesNode, "\(key).phrases", "holds a phrase without letters")
        }
        return Marking(
            id: id, pack: pack.id, category: try category(fields["category"]!, at: "\(key).category"), phrases: phrases,
            standalone: try fields["standalone"].map { try reader.bool($0, at: "\(key).standalone") } ?? false,
            action: try fields["action"].map { try reader.choice($0, at: "\(key).action", among: [RuleAction.quarantine, .report]) } ?? .quarantine,
            file: reader.file, line: phrasesNode.mark?.line ?? 0)
    }

    mutating func elementRule(_ node: Node, at key: String) throws -> ElementRule {
        let fields = try reader.mapping(node, at: key, known: ["id", "title", "select", "action", "category"],
                                        required: ["id", "select", "action", "category"])
        let id = try ruleID(fields["id"]!, at: "\(key).id")
        let selectNode = fields["select"]!
        let xpath = try reader.string(selectNode, at: "\(key).select")
        var used: [String: [String]] = [:]
        for prefix in XPathPrefixes.of(xpath) {
            guard let uris = pack.namespaces[prefix] else {
                throw reader.fail(selectNode, "\(key).select", "uses the prefix `\(prefix)`, which `namespaces` does not declare")
            }
            used[prefix] = uris
        }
        // Each `…:**` prefix is evaluated once per matching namespace a document declares; two of
        // them in one expression multiply, past the bindings a document allows (`xml.xpath.limit`).
        let families = used.filter { $0.value.contains { $0.hasSuffix(":**") } }.keys.sorted()
        if families.count > 1 {
            throw reader.fail(selectNode, "\(key).select", "uses more than one namespace family `…:**` (\(families.joined(separator: ", "))); write the others with version wildcards `…:*`")
        }
        return ElementRule(id: id, pack: pack.id, xpath: xpath, namespaces: used,
                           action: try reader.choice(fields["action"]!, at: "\(key).action"),
                           category: try category(fields["category"]!, at: "\(key).category"))
    }

    /// A rule id: lower case, starting with the pack id (`kz.`), unique in the pack.
    private mutating func ruleID(_ node: Node, at key: String) throws -> String {
        let id = try reader.string(node, at: key)
        let prefix = pack.id.lowercased() + "."
        guard id.hasPrefix(prefix), id.range(of: "^[a-z0-9]+(\\.[a-z0-9-]+)+$", options: .regularExpression) != nil else {
            throw reader.fail(node, key, "`\(id)` must be lower-case words joined by dots, starting with `\(prefix)`")
        }
        if let first = lines[id] {
            throw reader.fail(node, key, "`\(id)` is already used on line \(first)")
        }
        lines[id] = node.mark?.line ?? 0
        return id
    }

    private func category(_ node: Node, at key: String) throws -> RestrictedCategory {
        try reader.choice(node, at: key, among: pack.categories)
    }
}

/// The namespace prefixes an XPath 1.0 expression uses (`csdo` in `//csdo:DocId`):
/// names followed by a single colon. Axes (`child::`) and string literals are skipped.
enum XPathPrefixes {
    static func of(_ xpath: String) -> [String] {
        let characters = Array(xpath)
        var prefixes: [String] = []
        var index = 0
        while index < characters.count {
            let character = characters[index]
            if character == "\"" || character == "'" {
                index += 1
                while index < characters.count, characters[index] != character { index += 1 }
                index += 1
                continue
            }
            guard isNameStart(character) else { index += 1; continue }
            var end = index
            while end < characters.count, isNameStart(characters[end]) || characters[end].isNumber
                    || characters[end] == "-" || characters[end] == "." { end += 1 }
            let isPrefix = end + 1 < characters.count && characters[end] == ":"
                && (isNameStart(characters[end + 1]) || characters[end + 1] == "*")
            if isPrefix {
                let name = String(characters[index..<end])
                if !prefixes.contains(name) { prefixes.append(name) }
                end += 1
            }
            index = end
        }
        return prefixes
    }

    private static func isNameStart(_ character: Character) -> Bool {
        character.isLetter || character == "_"
    }
}

extension YamlError {
    /// The line of the construct the parser was reading (an unterminated quote
    /// starts there), else the line it stopped at.
    var line: Int? {
        switch self {
        case .scanner(let context, _, let mark, _), .parser(let context, _, let mark, _), .composer(let context, _, let mark, _):
            context?.mark.line ?? mark.line
        case .duplicatedKeysInMapping(_, let context): context.mark.line
        default: nil
        }
    }

    /// The parser's description of the problem.
    var problem: String {
        switch self {
        case .scanner(let context, let problem, _, _), .parser(let context, let problem, _, _),
             .composer(let context, let problem, _, _):
            [context?.text, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
        case .duplicatedKeysInMapping(let duplicates, _): "repeats the key(s) \(duplicates.joined(separator: ", "))"
        default: "\(self)"
        }
    }
}
