package scenarios

import (
	"strings"
	"testing"
)

func TestWrapText(t *testing.T) {
	got := wrapText("one two three four five six", 9)
	if strings.Join(got, "|") != "one two|three|four five|six" {
		t.Errorf("wrapText = %q", got)
	}
}

func TestEthMACAndPID1(t *testing.T) {
	ipLink := "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue qlen 1000\n    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n" +
		"2: eth0@if564: <BROADCAST,MULTICAST,UP,LOWER_UP,M-DOWN> mtu 1500 qdisc noqueue \n    link/ether 8e:d1:6a:1a:34:cf brd ff:ff:ff:ff:ff:ff\n"
	if got := eth0MAC(ipLink); got != "8e:d1:6a:1a:34:cf" {
		t.Errorf("eth0MAC = %q", got)
	}
	ps := "PID   USER     COMMAND\n    1 root     sleep 5000\n   30 root     ps aux\n"
	if got := psPID1(ps); got != "1 root     sleep 5000" {
		t.Errorf("psPID1 = %q", got)
	}
}
