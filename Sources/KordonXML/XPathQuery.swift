import CLibXML2
import Foundation

/// Why an XPath expression could not be compiled or evaluated. Never carries document
/// content: libxml2's XPath errors are reported by code, with Kordon's own wording.
struct XPathFailure: Error, Sendable, Equatable {
    /// What went wrong.
    enum Reason: Sendable, Equatable {
        /// libxml2 rejected the expression (syntax, undefined prefix, unknown function, …).
        case invalid(String, position: Int?)
        /// Evaluation hit the operation limit, the recursion limit or ran out of memory.
        case limit(String)
        /// The expression returned something other than a node set (a number, a string, …).
        case notNodeSet
        /// The node set held nodes that are not elements (attributes, comments, …).
        case notElements(String)
        /// More elements than ``XPathQuery/maxResults``.
        case tooManyResults(Int)
    }

    /// What went wrong.
    let reason: Reason

    /// One sentence, for a ``KordonCore/KordonError`` message.
    var description: String {
        switch reason {
        case .invalid(let what, let position):
            return position.map { "\(what) at character \($0 + 1)" } ?? what
        case .limit(let what):
            return what
        case .notNodeSet:
            return "it returns a value, not a selection of elements"
        case .notElements(let kind):
            return "it selects \(kind) nodes; an element rule must select elements (use the owner element instead)"
        case .tooManyResults(let count):
            return "it selects more than \(count) elements"
        }
    }
}

/// One compiled XPath expression and the libxml2 context (`xmlXPathContextPtr`) it is
/// evaluated in, both freed with this object.
///
/// The context's errors go to this object's own handler, never to standard error, and
/// are kept as codes only: libxml2's XPath messages are fixed texts, but Kordon words them
/// itself so that no message can ever carry text from the document. Evaluation is bounded
/// by libxml2's operation counter (`opLimit`, in 2.9.14's `xmlXPathContext`): every step
/// and every node a step visits counts one operation, and evaluation stops with an error
/// when the limit is reached. Not thread-safe; one query per call.
final class XPathQuery {
    /// Most elements one evaluation may return.
    static let maxResults = 100_000

    private let context: xmlXPathContextPtr
    private let compiled: xmlXPathCompExprPtr
    private let errors = XPathErrorCollector()

    /// Compiles `expression` for evaluation against `document` (which must outlive this
    /// query), with at most `operationLimit` operations per evaluation.
    init(expression: String, document: xmlDocPtr, operationLimit: UInt) throws(XPathFailure) {
        guard let context = xmlXPathNewContext(document) else {
            throw XPathFailure(reason: .limit("libxml2 could not allocate an XPath context"))
        }
        context.pointee.opLimit = operationLimit
        // Relative expressions start at the document node, like absolute ones.
        context.pointee.node = UnsafeMutableRawPointer(document).assumingMemoryBound(to: xmlNode.self)
        context.pointee.userData = Unmanaged.passUnretained(errors).toOpaque()
        context.pointee.error = xpathErrorHandler
        let compiled = withSilencedXPathErrors { xmlXPathCtxtCompile(context, expression) }
        guard let compiled else {
            let failure = errors.failure ?? XPathFailure(reason: .invalid("libxml2 rejected the expression", position: nil))
            xmlXPathFreeContext(context)
            throw failure
        }
        self.context = context
        self.compiled = compiled
    }

    deinit {
        xmlXPathFreeCompExpr(compiled)
        xmlXPathFreeContext(context)
    }

    /// Binds `prefix` to `uri` for the next evaluations (a new binding replaces the old).
    /// Throws when libxml2 refuses the prefix (empty).
    func bind(prefix: String, to uri: String) throws(XPathFailure) {
        if xmlXPathRegisterNs(context, prefix, uri) != 0 {
            throw XPathFailure(reason: .invalid("the namespace prefix '\(prefix)' cannot be bound", position: nil))
        }
    }

    /// Evaluates the expression from the document node and returns the elements it
    /// selects, in libxml2's (document) order. A text node selected stands for the element
    /// that holds it (`//Id/text()` selects `Id`); any other kind of node is a failure.
    func evaluate() throws(XPathFailure) -> [xmlNodePtr] {
        errors.failure = nil
        context.pointee.opCount = 0
        let result = withSilencedXPathErrors { xmlXPathCompiledEval(compiled, context) }
        defer { if let result { xmlXPathFreeObject(result) } }
        if let failure = errors.failure {
            // The position is only meaningful while compiling.
            if case .invalid(let what, _) = failure.reason { throw XPathFailure(reason: .invalid(what, position: nil)) }
            throw failure
        }
        guard let result else { throw XPathFailure(reason: .invalid("libxml2 could not evaluate the expression", position: nil)) }
        guard result.pointee.type == XPATH_NODESET else { throw XPathFailure(reason: .notNodeSet) }
        guard let set = result.pointee.nodesetval, set.pointee.nodeNr > 0, let table = set.pointee.nodeTab else { return [] }
        let count = Int(set.pointee.nodeNr)
        guard count <= Self.maxResults else { throw XPathFailure(reason: .tooManyResults(Self.maxResults)) }
        var elements: [xmlNodePtr] = []
        elements.reserveCapacity(count)
        for k in 0..<count {
            guard let node = table[k] else { continue }
            switch node.pointee.type {
            case XML_ELEMENT_NODE:
                elements.append(node)
            case XML_TEXT_NODE, XML_CDATA_SECTION_NODE:
                if let parent = node.pointee.parent, parent.pointee.type == XML_ELEMENT_NODE, elements.last != parent {
                    elements.append(parent)
                }
            case XML_ATTRIBUTE_NODE: throw XPathFailure(reason: .notElements("attribute"))
            case XML_NAMESPACE_DECL: throw XPathFailure(reason: .notElements("namespace"))
            case XML_COMMENT_NODE: throw XPathFailure(reason: .notElements("comment"))
            case XML_PI_NODE: throw XPathFailure(reason: .notElements("processing-instruction"))
            case XML_DOCUMENT_NODE: throw XPathFailure(reason: .notElements("document"))
            default: throw XPathFailure(reason: .notElements("non-element"))
            }
        }
        return elements
    }

    /// Compiles `expression` and evaluates it once on an empty stand-in document with
    /// every prefix bound to its first URI: this finds syntax errors, prefixes the selector
    /// does not declare (in the steps an empty document reaches), and expressions that
    /// return a value instead of nodes. Calls to unknown functions are found by reading
    /// the expression (see ``XPathFunctionNames``). Throws the first problem.
    static func check(expression: String, namespaces: [String: [String]]) throws(XPathFailure) {
        XMLRuntime.initialize()
        guard let document = xmlNewDoc("1.0") else {
            throw XPathFailure(reason: .limit("libxml2 could not allocate a document"))
        }
        defer { xmlFreeDoc(document) }
        if let root = xmlNewDocNode(document, nil, "kordon-selector-check", nil) {
            xmlDocSetRootElement(document, root)
        }
        let query = try XPathQuery(expression: expression, document: document, operationLimit: 100_000)
        if let name = XPathFunctionNames.firstUnknownCall(in: expression) {
            throw XPathFailure(reason: .invalid("an unknown function \(name)()", position: nil))
        }
        for (prefix, uris) in namespaces.sorted(by: { $0.key < $1.key }) {
            guard let first = uris.first else {
                throw XPathFailure(reason: .invalid("the namespace prefix '\(prefix)' is bound to no namespace URI", position: nil))
            }
            try query.bind(prefix: prefix, to: first)
        }
        _ = try query.evaluate()
    }
}

/// Keeps the first error libxml2 raises on one XPath context, as a code and a position.
private final class XPathErrorCollector {
    var failure: XPathFailure?

    func record(_ error: UnsafePointer<xmlError>) {
        guard failure == nil else { return }
        let code = Int(error.pointee.code) - Int(XML_XPATH_EXPRESSION_OK.rawValue)
        let position = error.pointee.int1 >= 0 ? Int(error.pointee.int1) : nil
        switch code {
        case Int(XPATH_OP_LIMIT_EXCEEDED.rawValue):
            failure = XPathFailure(reason: .limit("the XPath operation limit was reached"))
        case Int(XPATH_RECURSION_LIMIT_EXCEEDED.rawValue):
            failure = XPathFailure(reason: .limit("the XPath recursion limit was reached"))
        case Int(XPATH_MEMORY_ERROR.rawValue):
            failure = XPathFailure(reason: .limit("libxml2 ran out of memory evaluating the expression"))
        default:
            failure = XPathFailure(reason: .invalid(Self.wording[code] ?? "XPath error \(code)", position: position))
        }
    }

    /// Kordon's wording of libxml2's `xmlXPathError` codes.
    private static let wording: [Int: String] = [
        1: "a malformed number", 2: "an unfinished literal", 3: "a literal expected",
        4: "a variable reference expected", 5: "an undefined variable", 6: "an invalid predicate",
        7: "an invalid expression", 8: "a missing closing bracket", 9: "an unknown function",
        10: "an invalid operand", 11: "an invalid type", 12: "a wrong number of function arguments",
        13: "an invalid context size", 14: "an invalid context position", 16: "a syntax error",
        19: "an undefined namespace prefix", 20: "an encoding error", 21: "a character outside the XML range",
        22: "an invalid context", 23: "an evaluation stack error", 24: "a variable, which is not allowed",
    ]
}

/// The structured error handler set on each XPath context; `userData` is its collector.
private let xpathErrorHandler: xmlStructuredErrorFunc = { userData, error in
    guard let userData, let error else { return }
    Unmanaged<XPathErrorCollector>.fromOpaque(userData).takeUnretainedValue().record(UnsafePointer(error))
}

/// Runs `body` with this thread's structured and generic libxml2 error handlers silenced:
/// a few XPath problems are raised outside the context's own handler.
private func withSilencedXPathErrors<T>(_ body: () -> T) -> T {
    let generic = kordon_xml_silence_generic_errors()
    defer { kordon_xml_restore_generic_errors(generic) }
    return withSilencedGlobalErrors(body)
}
