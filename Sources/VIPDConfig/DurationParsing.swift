extension VIPDConfiguration {
    /// Parses a duration as the configuration file writes it (`500ms`, `1.5s`, `10m`), for the CLI.
    public static func parseDuration(_ text: String) -> Duration? {
        try? DurationText.parse(text).get()
    }

    /// A duration as the configuration file writes it, for messages that name a configured value.
    public static func renderDuration(_ duration: Duration) -> String {
        DurationText.render(duration)
    }
}
