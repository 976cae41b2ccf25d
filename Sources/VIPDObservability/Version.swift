/// vipd's version: the one string `vipd --version` prints and `vipd_build_info` carries. It must be
/// the file VERSION at the top of the repository, which names the Debian package: PackagingTests
/// compares them and scripts/package refuses a binary whose --version differs (docs/install.md).
public let vipdVersion = "0.1.0"
