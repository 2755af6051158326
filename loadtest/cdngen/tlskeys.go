package cdngen

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/binary"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"strconv"
	"time"
)

// FileCA is the PEM certificate of the authority that signs the
// certificates of sslkeys.json; a load generator trusts it for HTTPS.
const FileCA = "loadtest-ca.pem"

// Certificates are valid from a day before stats.date for twenty years.
const certLifetime = 20 * 365 * 24 * time.Hour

// authority is the generated CA. Keys are Ed25519 derived from the seed, so
// certificates (Ed25519 signatures are deterministic) are the same bytes
// for the same options.
type authority struct {
	cert *x509.Certificate
	der  []byte
	key  ed25519.PrivateKey
}

func (p *plan) edKey(label string) ed25519.PrivateKey {
	var seed [8]byte
	binary.BigEndian.PutUint64(seed[:], uint64(p.o.Seed))
	sum := sha256.Sum256(append(seed[:], "cdngen "+label...))
	return ed25519.NewKeyFromSeed(sum[:])
}

func (p *plan) notBefore() time.Time { return time.Unix(p.o.Date, 0).UTC().Add(-24 * time.Hour) }

func (p *plan) newAuthority() (*authority, error) {
	key := p.edKey("ca")
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "Signpost load test CA (seed " + strconv.FormatInt(p.o.Seed, 10) + ")"},
		NotBefore:             p.notBefore(),
		NotAfter:              p.notBefore().Add(certLifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(nil, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("cdngen: CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("cdngen: CA certificate: %w", err)
	}
	return &authority{cert: cert, der: der, key: key}, nil
}

// writeCA writes the CA certificate as PEM.
func (p *plan) writeCA(w io.Writer) (int64, error) {
	ca, err := p.newAuthority()
	if err != nil {
		return 0, err
	}
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.der})
	n, err := w.Write(b)
	return int64(n), err
}

// writeTLSKeys writes sslkeys.json in the ops API
// /cdns/name/{cdn}/sslkeys shape (spec §7.10): for every HTTP delivery
// service accepting HTTPS, a certificate for "*.<xmlId>.<domain>" signed by
// the generated CA, with the chain and the PKCS #8 key base64-encoded PEM.
func (p *plan) writeTLSKeys(w io.Writer) (int64, error) {
	ca, err := p.newAuthority()
	if err != nil {
		return 0, err
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.der})
	o := newOut(w)
	o.raw(`{"response":[`)
	n := 0
	for i := range p.ds {
		d := &p.ds[i]
		if d.kind != kindHTTP || d.https == httpOnly {
			continue
		}
		host := "*." + d.id + "." + p.o.Domain
		key := p.edKey("ds " + d.id)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(int64(i) + 2),
			Subject:      pkix.Name{CommonName: host},
			DNSNames:     []string{host, d.id + "." + p.o.Domain},
			NotBefore:    p.notBefore(),
			NotAfter:     p.notBefore().Add(certLifetime),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		}
		der, err := x509.CreateCertificate(nil, tmpl, ca.cert, key.Public(), ca.key)
		if err != nil {
			return o.n, fmt.Errorf("cdngen: certificate of %s: %w", d.id, err)
		}
		pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return o.n, fmt.Errorf("cdngen: key of %s: %w", d.id, err)
		}
		chain := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), caPEM...)
		keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})
		if n > 0 {
			o.raw(",")
		}
		n++
		o.raw("\n{")
		o.key("certificate", true)
		o.raw("{")
		o.kv("crt", base64.StdEncoding.EncodeToString(chain), true)
		o.kv("key", base64.StdEncoding.EncodeToString(keyPEM), false)
		o.raw("}")
		o.kv("deliveryservice", d.id, false)
		o.kv("hostname", host, false)
		o.raw("}")
		o.maybeFlush()
	}
	o.raw("]}\n")
	o.flush()
	return o.n, o.err
}
