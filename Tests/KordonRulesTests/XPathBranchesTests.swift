import Testing
@testable import KordonRules

/// An element rule is skipped on a document that cannot match it: every branch of its XPath
/// names, on its main path, a prefix whose namespaces the document does not declare.
@Suite(.timeLimit(.minutes(10))) struct XPathBranchesTests {
    @Test func mainPathPrefixesAreReadPerBranch() {
        #expect(XPathBranches.requiredPrefixes(of: "//csdo:TaxpayerId") == [["csdo"]])
        #expect(XPathBranches.requiredPrefixes(of: "//ccdo:IdentityDocV3Details/csdo:DocId | //cacdo:X/csdo:DocSeriesId")
                == [["ccdo", "csdo"], ["cacdo", "csdo"]])
        // Predicates, literals and axes do not count; `fts:*` does.
        #expect(XPathBranches.requiredPrefixes(of: "//fts:NumDoc/self::*[../fts:TypeDocCode or p:Q] | //fts:*[a:B = 'x|y']/text()")
                == [["fts"], ["fts"]])
        #expect(XPathBranches.requiredPrefixes(of: "//Id") == [[]])
    }

    @Test func shapesItDoesNotReadAreAlwaysEvaluated() {
        #expect(XPathBranches.requiredPrefixes(of: "(//a:X)[1]") == nil)
        #expect(XPathBranches.requiredPrefixes(of: "//a:X[") == nil)
        #expect(XPathBranches.requiredPrefixes(of: "id('x')") == nil)
        #expect(XPathBranches.requiredPrefixes(of: "//@a:x") == nil)
    }

    @Test func planKeepsOnlyBranchesAndNamespacesThatNameElementsTheDocumentHas() throws {
        let rule = ElementRule(id: "xx.id", pack: "XX", xpath: "//a:X/b:Y | //c:Z",
                               namespaces: ["a": ["urn:a"], "b": ["urn:b1", "urn:b2"], "c": ["urn:c"]], action: .mask, category: .personalData)
        func plan(_ present: Set<String>) -> (xpath: String, bindings: [String: [String]])? {
            rule.plan(bindings: rule.namespaces) { uri, name in
                name == "*" ? present.contains { $0.hasPrefix(uri + " ") } : present.contains(uri + " " + name)
            }
        }
        #expect(plan([]) == nil)
        #expect(plan(["urn:a X", "urn:c Y"]) == nil, "Y is not in c, Z is nowhere")
        let both = try #require(plan(["urn:a X", "urn:b2 Y", "urn:c Z"]))
        #expect(both.xpath == rule.xpath)
        #expect(both.bindings["b"] == ["urn:b2"], "b1 holds no Y")
        let second = try #require(plan(["urn:c Z"]))
        #expect(second.xpath == "//c:Z")
        // A prefix a predicate uses keeps every namespace: `[not(p:Q)]` depends on them all.
        let predicate = ElementRule(id: "xx.id", pack: "XX", xpath: "//a:X[not(p:Q)]", namespaces: ["a": ["urn:a1", "urn:a2"], "p": ["urn:p1", "urn:p2"]],
                                    action: .mask, category: .personalData)
        let kept = try #require(predicate.plan(bindings: predicate.namespaces) { uri, name in uri == "urn:a1" && name == "X" })
        #expect(kept.bindings["a"] == ["urn:a1"])
        #expect(kept.bindings["p"] == ["urn:p1", "urn:p2"])
        // Shapes that are not read are always evaluated as written.
        let unread = ElementRule(id: "xx.id", pack: "XX", xpath: "(//a:X)[1]", namespaces: ["a": ["urn:a"]], action: .mask, category: .personalData)
        #expect(unread.plan(bindings: unread.namespaces) { _, _ in false }?.xpath == "(//a:X)[1]")
    }

    @Test func attributeAxesAreNotRead() {
        #expect(XPathBranches.requiredPrefixes(of: "//a:X/attribute::b:y") == nil)
        #expect(XPathBranches.requiredPrefixes(of: "//a:X/following-sibling::b:Y") == [["a", "b"]])
    }
}
