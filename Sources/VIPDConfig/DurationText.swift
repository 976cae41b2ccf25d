// Duration text as the configuration file writes it: `100ms`, `1.5s`, `2m`.

enum DurationText {
    /// Units a duration may be written in, with their length in nanoseconds.
    static let units: [(suffix: String, nanoseconds: Int64)] = [
        ("ms", 1_000_000), ("s", 1_000_000_000), ("m", 60_000_000_000),
    ]
    static let allowedForms = "a number with a unit: ms, s or m (e.g. 100ms, 1.5s, 2m)"

    enum Failure: Error {
        case noUnit, malformed, tooPrecise, tooLarge
    }

    /// Parses `<digits>[.<digits>]<unit>`. Exact: a fraction that does not come to whole
    /// nanoseconds is refused rather than rounded, so rendering gives back the same text value.
    static func parse(_ text: String) -> Result<Duration, Failure> {
        let chars = Array(text.unicodeScalars)
        var end = chars.count
        while end > 0, chars[end - 1].properties.isAlphabetic, chars[end - 1].isASCII { end -= 1 }
        let unitText = String(String.UnicodeScalarView(chars[end...]))
        let number = chars[..<end]
        guard !number.isEmpty else { return .failure(.malformed) }
        guard !unitText.isEmpty else {
            return number.allSatisfy({ $0.isASCII && ($0.properties.numericType != nil || $0 == ".") })
                ? .failure(.noUnit) : .failure(.malformed)
        }
        guard let unit = units.first(where: { $0.suffix == unitText }) else { return .failure(.malformed) }
        let parts = number.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(isDigit) }) else {
            return .failure(.malformed)
        }
        guard parts[0].count <= 19, let whole = Int64(String(String.UnicodeScalarView(parts[0]))) else {
            return .failure(.tooLarge)
        }
        var total = whole.multipliedReportingOverflow(by: unit.nanoseconds)
        guard !total.overflow else { return .failure(.tooLarge) }
        if parts.count == 2 {
            // A unit has at most 11 decimal digits of nanoseconds (60e9); more fraction digits
            // than that can only be trailing zeros or sub-nanosecond precision.
            var digits = Array(parts[1])
            while digits.count > 1, digits.last == "0" { digits.removeLast() }
            guard digits.count <= 11 else { return .failure(.tooPrecise) }
            var fraction: Int64 = 0, scale: Int64 = 1
            for d in digits {
                fraction = fraction * 10 + Int64(d.value - 48)
                scale *= 10
            }
            // fraction / scale < 1, so fraction × unit / scale < unit: the quotient always fits.
            let product = fraction.multipliedFullWidth(by: unit.nanoseconds)
            let (nanoseconds, remainder) = scale.dividingFullWidth(product)
            guard remainder == 0 else { return .failure(.tooPrecise) }
            total = total.partialValue.addingReportingOverflow(nanoseconds)
            guard !total.overflow else { return .failure(.tooLarge) }
        }
        return .success(.nanoseconds(total.partialValue))
    }

    private static func isDigit(_ c: Unicode.Scalar) -> Bool { c >= "0" && c <= "9" }

    /// Shortest exact text: whole minutes as `m`, whole seconds as `s`, otherwise milliseconds
    /// (with a decimal fraction below a millisecond).
    static func render(_ d: Duration) -> String {
        let ns = d.nanoseconds
        // Configurations never hold negative durations, but rendering one must not trap either.
        let sign = ns < 0 ? "-" : ""
        let m = ns.magnitude
        if m == 0 { return "0s" }
        if m % 60_000_000_000 == 0 { return "\(sign)\(m / 60_000_000_000)m" }
        if m % 1_000_000_000 == 0 { return "\(sign)\(m / 1_000_000_000)s" }
        let ms = m / 1_000_000, rest = m % 1_000_000
        if rest == 0 { return "\(sign)\(ms)ms" }
        var fraction = String(rest)
        fraction = String(repeating: "0", count: max(0, 6 - fraction.count)) + fraction
        while fraction.last == "0" { fraction.removeLast() }
        return "\(sign)\(ms).\(fraction)ms"
    }
}
