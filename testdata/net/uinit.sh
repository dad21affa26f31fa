# uinit script of the networking boot test (net_test.go, TestNetBootUroot).
# u-root's init runs it as `gosh /etc/uinit-net.sh`. The sandbox configures
# its own interface with u-root's ip (uk boot is given only --net=tap:NAME),
# pings the host side of the TAP device, fetches a file from the test's
# HTTP server there, directly and through the default route, and prints
# its hash. Each step starts with a marker
# line "NET: <step>" that the test cuts the console at.
echo "NET: start"
ip addr add 10.99.0.2/24 dev eth0
ip link set eth0 up
ip route add default via 10.99.0.1
echo "NET: ip addr"
ip addr
echo "NET: ip route"
ip route
echo "NET: ping"
ping -c 3 10.99.0.1
echo "NET: wget"
wget -O /tmp/f http://10.99.0.1:8080/blob
echo "NET: sha256"
netperf sha256 /tmp/f
# 10.77.0.1 is an address of the host side's namespace that is not on the
# TAP's subnet: only the default route reaches it.
echo "NET: wget via gateway"
wget -O /tmp/g http://10.77.0.1:8080/blob
echo "NET: sha256 via gateway"
netperf sha256 /tmp/g
echo "NET: powering off"
shutdown halt
# Reached only if shutdown returned instead of powering off.
echo "NET: FAIL shutdown halt returned"
