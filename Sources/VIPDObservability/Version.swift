/// vipd's version: the one string `vipd --version` prints and `vipd_build_info` carries.
public let vipdVersion = "0.1.0"
