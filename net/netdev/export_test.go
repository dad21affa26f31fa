package netdev

// IPv4Addrs is ipv4Addrs for the external tests.
var IPv4Addrs = ipv4Addrs
