import Logging
import VIPDConfig

extension LogLevel {
    /// The swift-log level for the configuration's `log_level`.
    public var swiftLogLevel: Logger.Level {
        switch self {
        case .trace: .trace
        case .debug: .debug
        case .info: .info
        case .notice: .notice
        case .warning: .warning
        case .error: .error
        }
    }
}
