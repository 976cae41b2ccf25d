// VIPDLinux's API throws VIPDSystem's `SystemError` (and names `Capability`), so a module that
// imports VIPDLinux gets those types with it, as it did when they were defined here.
@_exported import VIPDSystem
