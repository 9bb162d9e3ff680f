package deliver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"
)

// ErrForbiddenTarget marks a destination refused by the SSRF guard: a URL whose host
// is, or resolves to, an address on this machine or a private network. Users paste
// webhook URLs; without the guard they could make the server call its own admin
// endpoints or the cloud metadata service. delivery.allow_private_targets lifts it.
var ErrForbiddenTarget = errors.New("target address not allowed")

// blockedPrefixes are ranges no delivery may reach unless private targets are allowed.
// IPv4-mapped IPv6 addresses are unmapped before the check, and NAT64 and 6to4
// addresses are checked again on the IPv4 address they embed.
var blockedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network", incl. unspecified
	netip.MustParsePrefix("10.0.0.0/8"),      // private
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT
	netip.MustParsePrefix("127.0.0.0/8"),     // loopback
	netip.MustParsePrefix("169.254.0.0/16"),  // link-local, cloud metadata
	netip.MustParsePrefix("172.16.0.0/12"),   // private
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("192.168.0.0/16"),  // private
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
	netip.MustParsePrefix("224.0.0.0/4"),     // multicast
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, broadcast
	netip.MustParsePrefix("::/96"),           // unspecified, loopback, IPv4-compatible
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("100::/64"),        // discard
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("fc00::/7"),        // unique local
	netip.MustParsePrefix("fe80::/10"),       // link-local
	netip.MustParsePrefix("fec0::/10"),       // site-local (deprecated)
	netip.MustParsePrefix("ff00::/8"),        // multicast
}

var (
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour = netip.MustParsePrefix("2002::/16")
)

// blocked reports whether ip is in a range the guard refuses.
func blocked(ip netip.Addr) bool {
	ip = ip.Unmap().WithZone("")
	if !ip.IsValid() {
		return true
	}
	for _, p := range blockedPrefixes {
		if p.Contains(ip) {
			return true
		}
	}
	if ip.Is6() {
		b := ip.As16()
		switch {
		case nat64.Contains(ip):
			return blocked(netip.AddrFrom4([4]byte(b[12:16])))
		case sixToFour.Contains(ip):
			return blocked(netip.AddrFrom4([4]byte(b[2:6])))
		}
	}
	return false
}

// CheckTarget validates a user-supplied destination URL before it is stored or used:
// http or https only, a host present, and (unless allowPrivate) every address the host
// resolves to outside loopback, link-local, private, CGNAT, ULA, multicast and
// unspecified ranges. Errors never repeat the URL's path or query, which often hold
// the secret (a Slack webhook path, a token parameter).
//
// A check at save time is not enough against DNS rebinding (the name may resolve
// elsewhere at send time); senders also dial through SafeTransport.
func CheckTarget(rawURL string, allowPrivate bool) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return Permanent(errors.New("target: invalid URL"))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return Permanent(fmt.Errorf("target: scheme %q not allowed, use http or https", u.Scheme))
	}
	host := u.Hostname()
	if host == "" {
		return Permanent(errors.New("target: URL has no host"))
	}
	if allowPrivate {
		return nil
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if blocked(ip) {
			return Permanent(fmt.Errorf("target %s: %w", host, ErrForbiddenTarget))
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return fmt.Errorf("target %s: resolve: %w", host, err)
	}
	for _, ip := range addrs {
		if blocked(ip) {
			return Permanent(fmt.Errorf("target %s (%s): %w", host, ip, ErrForbiddenTarget))
		}
	}
	return nil
}

// SafeTransport returns an HTTP transport for user-supplied destinations. Unless
// allowPrivate, its dialer checks the address it is actually connecting to, after
// DNS resolution, and refuses blocked ranges with ErrForbiddenTarget: that closes the
// DNS-rebinding gap between CheckTarget and the request, and covers redirects. It
// uses no proxy, since a proxy would connect on our behalf and hide the address.
func SafeTransport(allowPrivate bool) *http.Transport {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		d.Control = func(_, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return fmt.Errorf("dial %s: %w", address, ErrForbiddenTarget)
			}
			ip, err := netip.ParseAddr(host)
			if err != nil || blocked(ip) {
				return fmt.Errorf("dial %s: %w", host, ErrForbiddenTarget)
			}
			return nil
		}
	}
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          32,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}
