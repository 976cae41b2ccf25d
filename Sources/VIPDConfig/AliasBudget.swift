// Bounds how far aliases expand the document, before it is composed. Yams composes an alias as a
// reference to the anchored node, but its duplicate-key check hashes and compares keys in full, so
// an alias "bomb" used as a mapping key (`? *a9`) would take hours. Counting expanded nodes first
// turns that into an error.
//
// Only Yams' public API is used: the document is composed once with every `*` replaced by a
// character that occurs nowhere in it (a different one each time), which turns each alias into a
// plain scalar of its own — nothing expands, no two alias keys collide — while every other token,
// line and column stays where it was. Walking that tree in document order, an alias is a plain
// scalar starting with a replacement; it counts as the size of the node its anchor names.

import Yams

enum AliasBudget {
    /// Far above any real configuration (each instance is a few dozen nodes).
    static let maxExpandedNodes = 100_000

    enum Outcome {
        case within
        /// Where the expansion first exceeded the budget.
        case exceeded(line: Int, column: Int)
        /// More aliases than there are stand-in characters (tens of thousands).
        case tooManyAliases(line: Int, column: Int)
        /// The document is not valid YAML; `text` is what the error's offsets refer to.
        case invalid(YamlError, text: String)
    }

    static func check(_ yaml: String) -> Outcome {
        guard yaml.utf8.contains(UInt8(ascii: "*")) else { return .within }   // no alias: nothing expands
        let used = Set(yaml.unicodeScalars)
        var standIns = standInCandidates.lazy.filter { !used.contains($0) }.makeIterator()
        var neutered = String.UnicodeScalarView()
        var aliasAt: [Unicode.Scalar: (line: Int, column: Int)] = [:]
        var line = 1, column = 1
        for scalar in yaml.unicodeScalars {
            if scalar == "*" {
                guard let standIn = standIns.next() else { return .tooManyAliases(line: line, column: column) }
                aliasAt[standIn] = (line, column)
                neutered.append(standIn)
            } else {
                neutered.append(scalar)
            }
            if scalar == "\n" { line += 1; column = 1 } else { column += 1 }
        }
        let text = String(neutered)
        do {
            let parser = try Parser(yaml: text, resolver: .basic)   // no tag resolution (Parse.swift)
            guard let root = try parser.singleRoot() else { return .within }
            // The parser owns the anchors the nodes refer to (weakly): keep it until the walk is done.
            return withExtendedLifetime(parser) {
                var walk = Walk(aliasAt: aliasAt)
                let total = walk.size(of: root)
                if let excess = walk.excess { return .exceeded(line: excess.line, column: excess.column) }
                if total > maxExpandedNodes, let mark = root.mark { return .exceeded(line: mark.line, column: mark.column) }
                return .within
            }
        } catch let error as YamlError {
            return .invalid(error, text: text)
        } catch {
            return .within   // Yams throws only YamlError; the composer will say what is wrong
        }
    }

    /// CJK ideographs and Hangul syllables: letters a plain scalar may start with.
    private static let standInCandidates: [Unicode.Scalar] =
        [0x4E00...0x9FFF, 0xAC00...0xD7A3, 0x20000...0x2A6DF].flatMap { $0.compactMap(Unicode.Scalar.init) }

    private struct Walk {
        let aliasAt: [Unicode.Scalar: (line: Int, column: Int)]
        /// Expanded size of each anchored node so far (a later anchor of the same name replaces it).
        var anchorSizes: [String: Int] = [:]
        var excess: (line: Int, column: Int)?

        /// The node's expanded size, at most `maxExpandedNodes + 1`; stops at the first excess.
        mutating func size(of node: Node) -> Int {
            let size: Int
            switch node {
            case .scalar(let scalar):
                if let alias = alias(scalar) {
                    return anchorSizes[alias] ?? 1
                }
                size = 1
            case .sequence(let sequence):
                size = collection(Array(sequence))
            case .mapping(let mapping):
                size = collection(mapping.flatMap { [$0.key, $0.value] })
            case .alias:
                size = 1   // the parser resolves aliases; it never produces one
            }
            if let anchor = node.anchor?.rawValue { anchorSizes[anchor] = size }
            return size
        }

        private mutating func collection(_ children: [Node]) -> Int {
            var running = 1
            for child in children {
                running = min(running + size(of: child), maxExpandedNodes + 1)
                if excess != nil { return running }
                if running > maxExpandedNodes {
                    excess = position(of: child)
                    return running
                }
            }
            return running
        }

        /// The anchor name when the scalar stands in for an alias (`*name`).
        private func alias(_ scalar: Node.Scalar) -> String? {
            guard scalar.style == .plain, let first = scalar.string.unicodeScalars.first, aliasAt[first] != nil else { return nil }
            // libyaml's anchor names: letters, digits, '_' and '-'.
            return String(String.UnicodeScalarView(scalar.string.unicodeScalars.dropFirst().prefix {
                ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) || $0 == "_" || $0 == "-"
            }))
        }

        private func position(of node: Node) -> (line: Int, column: Int)? {
            if case .scalar(let scalar) = node, alias(scalar) != nil, let first = scalar.string.unicodeScalars.first {
                return aliasAt[first]
            }
            return node.mark.map { ($0.line, $0.column) }
        }
    }
}
