extension VIPDConfiguration {
    /// Parses a duration as the configuration file writes it (`500ms`, `1.5s`, `10m`), for the CLI.
    public static func parseDuration(_ text: String) -> Duration? {
        try? DurationText.parse(text).get()
    }
}
