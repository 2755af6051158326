package control

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"strings"
	"time"
)

// TLSKeys is the certificate set of the routing port (sslkeys.json, the ops
// API /cdns/name/{cdn}/sslkeys response, spec §7.10). An entry that cannot
// be used (bad base64, bad PEM, key not matching the certificate) does not
// reject the document: it is left out, listed in Rejected with the
// delivery service named, and reported as a warning, so the other
// delivery services keep their certificates. Immutable once returned.
type TLSKeys struct {
	// Entries are the usable certificates in document order.
	Entries []TLSKey
	// Rejected are the entries left out, in document order.
	Rejected []RejectedTLSKey
	Warnings []Problem
}

// TLSKey is one usable certificate of a delivery service.
type TLSKey struct {
	DeliveryService string
	// Hostname as sent; Alias is it lower-cased without a leading "*."
	// (the name SNI selection compares with, spec §7.10).
	Hostname string
	Alias    string
	// Certificate holds the chain (leaf first) and the private key;
	// Certificate.Leaf is parsed.
	Certificate *tls.Certificate
}

// RejectedTLSKey is an entry that could not be used, and why.
type RejectedTLSKey struct {
	DeliveryService string
	Hostname        string
	Path            string
	Reason          string
}

// Key returns the usable certificate of a delivery service.
func (k *TLSKeys) Key(xmlID string) (*TLSKey, bool) {
	if k == nil {
		return nil, false
	}
	for i := range k.Entries {
		if k.Entries[i].DeliveryService == xmlID {
			return &k.Entries[i], true
		}
	}
	return nil, false
}

// Rejection returns why the entry of a delivery service was rejected.
func (k *TLSKeys) Rejection(xmlID string) (RejectedTLSKey, bool) {
	if k == nil {
		return RejectedTLSKey{}, false
	}
	for _, r := range k.Rejected {
		if r.DeliveryService == xmlID {
			return r, true
		}
	}
	return RejectedTLSKey{}, false
}

// ParseTLSKeys decodes sslkeys.json. Only a document that is not JSON or
// not a list is an error; unusable entries are rejected one by one.
// Expired certificates are kept (Traffic Router serves them) with a
// warning.
func ParseTLSKeys(name string, data []byte) (*TLSKeys, error) {
	return parseTLSKeys(name, data, time.Now())
}

func parseTLSKeys(name string, data []byte, now time.Time) (*TLSKeys, error) {
	p, root, err := parseDocument(name, data)
	if err != nil {
		return nil, err
	}
	list, lp := listRoot(p, root)
	if err := p.result(); err != nil {
		return nil, err
	}
	keys := &TLSKeys{}
	seen := map[string]bool{}
	for i, e := range list.vals {
		ep := index(lp, i)
		reject := func(ds, host, path, value, reason string) {
			p.warn(path, value, "delivery service "+q(ds)+": certificate rejected: "+reason)
			keys.Rejected = append(keys.Rejected, RejectedTLSKey{DeliveryService: ds, Hostname: host, Path: path, Reason: reason})
		}
		if e.kind != kindObject {
			reject("", "", ep, e.text(), "expected an object, got "+e.kind.String())
			continue
		}
		ds, host := stringField(e, "deliveryservice"), stringField(e, "hostname")
		switch {
		case ds == "":
			reject(ds, host, field(ep, "deliveryservice"), "", "deliveryservice is missing or empty")
			continue
		case host == "":
			reject(ds, host, field(ep, "hostname"), "", "hostname is missing or empty")
			continue
		case seen[ds]:
			p.warn(field(ep, "deliveryservice"), ds, "delivery service "+q(ds)+" repeated; the first entry is used")
			continue
		}
		cp := field(ep, "certificate")
		c := e.get("certificate")
		if c.isNull() || c.kind != kindObject {
			reject(ds, host, cp, c.text(), "certificate object is missing")
			continue
		}
		crt, msg := base64PEM(stringField(c, "crt"))
		if msg != "" {
			reject(ds, host, field(cp, "crt"), "", "crt: "+msg)
			continue
		}
		key, msg := base64PEM(stringField(c, "key"))
		if msg != "" {
			reject(ds, host, field(cp, "key"), "", "key: "+msg)
			continue
		}
		pair, err := tls.X509KeyPair(crt, key)
		if err != nil {
			reject(ds, host, cp, "", strings.TrimPrefix(err.Error(), "tls: "))
			continue
		}
		if pair.Leaf == nil {
			if pair.Leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
				reject(ds, host, field(cp, "crt"), "", err.Error())
				continue
			}
		}
		if now.After(pair.Leaf.NotAfter) {
			p.warn(field(cp, "crt"), "", "delivery service "+q(ds)+": certificate expired on "+pair.Leaf.NotAfter.UTC().Format(time.RFC3339))
		}
		seen[ds] = true
		alias := strings.TrimPrefix(strings.ToLower(host), "*.")
		keys.Entries = append(keys.Entries, TLSKey{DeliveryService: ds, Hostname: host, Alias: alias, Certificate: &pair})
	}
	keys.Warnings = p.warnings()
	return keys, nil
}

// stringField returns a string (or number) field, "" otherwise.
func stringField(n *node, k string) string {
	v := n.get(k)
	if v == nil || (v.kind != kindString && v.kind != kindNumber) {
		return ""
	}
	return v.s
}

// base64PEM decodes base64 text (line breaks allowed) that must hold PEM.
func base64PEM(s string) ([]byte, string) {
	if s == "" {
		return nil, "missing or empty"
	}
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, s)
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, "not base64: " + err.Error()
	}
	if !strings.Contains(string(b), "-----BEGIN ") {
		return nil, "decoded text is not PEM"
	}
	return b, ""
}
