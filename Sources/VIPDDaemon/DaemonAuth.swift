// `auth_hmac` in the daemon: the configuration's block as the core's settings, the wall clock the
// sequences are made from (through the data plane), and signing when an advertisement is encoded.
// Verification and its drop reasons are the node layer's (`AdvertisementReceiver`, VRRPNode); the
// daemon passes the clock in and counts what comes back like every other drop.

import VIPDConfig
import VRRP
import VRRPNode

extension HMACAuthConfig {
    /// The core's settings for this block. Keys only leave `SecretBytes` here, for the verifier and
    /// the signer.
    var coreSettings: AuthHMACSettings {
        AuthHMACSettings(keys: Dictionary(uniqueKeysWithValues: keys.map { ($0.id, $0.material.bytes) }),
                         activeKey: activeKey, antiReplay: antiReplay, timeWindow: timeWindowSeconds, mode: mode)
    }
}

extension Daemon {
    /// The wall clock for a router's receiver: read only when the router verifies trailers.
    func authClock(_ runtime: RouterRuntime) -> UTCTime? {
        runtime.receiver.settings.authHMAC == nil ? nil : plane.wallClock()
    }
}

extension RouterRuntime {
    /// The packets of `advert` signed with the active key, when this router signs (`auth_hmac`
    /// with mode permissive or enforce); nil otherwise. Each call takes the next sequence, so
    /// signed packets are never reused from the cache.
    func signedAdvertisements(_ advert: Advertisement, source: IPAddress, form: ChecksumForm,
                              wallClock: () -> UTCTime) -> [(destination: IPAddress, bytes: [UInt8])]? {
        guard let settings = receiver.settings.authHMAC, settings.mode.signs else { return nil }
        return signer.encode(advert, source: source, destinations: destinations, checksumForm: form,
                             settings: settings, now: wallClock())
    }
}
