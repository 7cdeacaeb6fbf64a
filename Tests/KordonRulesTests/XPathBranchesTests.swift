import Testing
@testable import KordonRules

/// An element rule is skipped on a document that cannot match it: every branch of its XPath
/// names, on its main path, a prefix whose namespaces the document does not declare.
@Suite struct XPathBranchesTests {
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

    @Test func ruleIsSkippedOnlyWhenEveryBranchNeedsAnUndeclaredPrefix() {
        let rule = ElementRule(id: "xx.id", pack: "XX", xpath: "//a:X/b:Y | //c:Z",
                               namespaces: ["a": ["urn:a"], "b": ["urn:b"], "c": ["urn:c"]], action: .mask, category: .personalData)
        let bindings = rule.namespaces
        #expect(rule.mayMatch(bindings: bindings, declared: ["urn:a", "urn:b"]))
        #expect(rule.mayMatch(bindings: bindings, declared: ["urn:c"]))
        #expect(!rule.mayMatch(bindings: bindings, declared: ["urn:a"]))
        #expect(!rule.mayMatch(bindings: bindings, declared: []))
        let unprefixed = ElementRule(id: "xx.id", pack: "XX", xpath: "//Id", namespaces: [:], action: .mask, category: .personalData)
        #expect(unprefixed.mayMatch(bindings: [:], declared: []))
    }
}
