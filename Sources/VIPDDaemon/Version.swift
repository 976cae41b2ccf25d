/// vipd's version, shown by `vipd --version` and in `vipd_build_info`.
public let vipdVersion = "0.1.0"
