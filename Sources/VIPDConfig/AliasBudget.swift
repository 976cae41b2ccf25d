// A pass over libyaml's event stream before composing: bounds how far aliases expand the document.
// Yams composes an alias as a reference to the anchored node, but its duplicate-key check hashes and
// compares keys in full, so an alias "bomb" used as a mapping key (`? *a9`) would take hours. Counting
// expanded nodes first turns that into an error. (CYaml is the libyaml that Yams bundles.)

import CYaml

enum AliasBudget {
    /// Far above any real configuration (each instance is a few dozen nodes).
    static let maxExpandedNodes = 100_000

    /// Where the expansion first exceeded the budget, or nil when it stays within it. Syntax errors
    /// end the pass early with nil: the composer reports them with their position.
    static func firstExcess(in yaml: String) -> (line: Int, column: Int)? {
        var bytes = Array(yaml.utf8)
        if bytes.isEmpty { return nil }
        return bytes.withUnsafeMutableBufferPointer { buffer -> (line: Int, column: Int)? in
            var parser = yaml_parser_t()
            guard yaml_parser_initialize(&parser) == 1 else { return nil }
            defer { yaml_parser_delete(&parser) }
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)

            var anchorSizes: [String: Int] = [:]
            // Open collections: (anchor, expanded size so far).
            var stack: [(anchor: String?, size: Int)] = []
            var total = 0
            func anchorName(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
                pointer.map { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
            }
            func add(_ size: Int) {
                if stack.isEmpty {
                    total = min(total + size, maxExpandedNodes + 1)
                } else {
                    stack[stack.count - 1].size = min(stack[stack.count - 1].size + size, maxExpandedNodes + 1)
                }
            }
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else { return nil }
                defer { yaml_event_delete(&event) }
                let mark = (line: Int(event.start_mark.line) + 1, column: Int(event.start_mark.column) + 1)
                switch event.type {
                case YAML_STREAM_END_EVENT:
                    return nil
                case YAML_SCALAR_EVENT:
                    if let a = anchorName(event.data.scalar.anchor) { anchorSizes[a] = 1 }
                    add(1)
                case YAML_ALIAS_EVENT:
                    add(anchorName(event.data.alias.anchor).flatMap { anchorSizes[$0] } ?? 1)
                case YAML_SEQUENCE_START_EVENT:
                    stack.append((anchorName(event.data.sequence_start.anchor), 1))
                case YAML_MAPPING_START_EVENT:
                    stack.append((anchorName(event.data.mapping_start.anchor), 1))
                case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                    guard let done = stack.popLast() else { return nil }
                    if let a = done.anchor { anchorSizes[a] = done.size }
                    add(done.size)
                default:
                    break
                }
                let open = stack.last?.size ?? 0
                if total > maxExpandedNodes || open > maxExpandedNodes { return mark }
            }
        }
    }
}
