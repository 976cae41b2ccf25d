/// Why a configuration file was refused: where (1-based line and column of the offending YAML node,
/// columns counted in Unicode scalars like libyaml) and what is allowed instead.
public struct ConfigError: Error, Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    public var message: String

    public init(file: String, line: Int, column: Int, message: String) {
        self.file = file; self.line = line; self.column = column; self.message = message
    }

    /// `FILE:LINE:COLUMN: message`, the format compilers use, so editors can jump to it.
    public var description: String { "\(file):\(line):\(column): \(message)" }
}
