// `vipd import-keepalived`: a keepalived configuration in, vipd YAML and notes out.

/// The result of an import: the YAML to print, and one note per thing not carried over.
public struct KeepalivedImport: Sendable {
    /// The vipd configuration, loadable by `vipd check-config`. Each line that comes from keepalived
    /// ends in a comment naming its FILE:LINE.
    public var yaml: String
    /// `FILE:LINE: what, and what to do instead`, in the order found.
    public var notes: [ImportNote]
    /// For each line of `yaml` (1-based) that comes from keepalived, the line it came from.
    public var origins: [Int: SourceLocation]

    /// Reads `file` (and what it includes) through `fileSystem`, deciding `@ID` lines by `configID`.
    public static func convert(file: String, configID: String, fileSystem: KeepalivedFileSystem) throws(KeepalivedParseError) -> KeepalivedImport {
        var preprocessor = Preprocessor(fileSystem: fileSystem, configID: configID)
        try preprocessor.read(file: file)
        let statements = try Blocks.parse(preprocessor.lines)
        var converter = Converter()
        converter.notes = preprocessor.notes
        let entries = converter.convert(statements, file: file)
        guard !converter.instances.isEmpty else {
            let reasons = converter.notes.filter { $0.message.hasPrefix("vrrp_instance") }.map(\.description)
            throw KeepalivedParseError(SourceLocation(file: file, line: 1),
                                       "no vrrp_instance could be converted, and vipd needs at least one" + (reasons.isEmpty ? "" : ": " + reasons.joined(separator: "; ")))
        }
        let header = [
            "vipd configuration converted by `vipd import-keepalived` from \(file) (config id \(configID)).",
            "Each line names the keepalived line it comes from. Check it with `vipd check-config`.",
        ]
        let (text, origins) = YAMLWriter.render(entries, header: header)
        return KeepalivedImport(yaml: text, notes: converter.notes, origins: origins)
    }

    /// The keepalived line behind a line of `yaml` (or the nearest line above it that has one).
    public func origin(ofYAMLLine line: Int) -> SourceLocation? {
        var l = line
        while l > 0 {
            if let o = origins[l] { return o }
            l -= 1
        }
        return nil
    }
}
