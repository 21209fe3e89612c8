// A client that connects to a threeport API the way the original Go tptctl does: it reads the
// current control plane's APIServer, AuthEnabled, CACert and the credential named after the control
// plane from the threeport config (base64 PEM), builds a net/http client with crypto/tls (RootCAs
// from CACert, the client certificate from tls.X509KeyPair) and sends one request, Content-Type
// application/json on every method as its client does, and "Authorization: Bearer " with an empty
// token, as its v0.6 client does whenever it has none.
//
// Usage: go-client CONFIG METHOD PATH [JSON-BODY]; prints the status code, a newline, the body.
package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

type credential struct {
	Name       string `yaml:"Name"`
	ClientCert string `yaml:"ClientCert"`
	ClientKey  string `yaml:"ClientKey"`
}

type controlPlane struct {
	Name        string       `yaml:"Name"`
	AuthEnabled bool         `yaml:"AuthEnabled"`
	APIServer   string       `yaml:"APIServer"`
	CACert      string       `yaml:"CACert"`
	Credentials []credential `yaml:"Credentials"`
}

type config struct {
	ControlPlanes       []controlPlane `yaml:"ControlPlanes"`
	CurrentControlPlane string         `yaml:"CurrentControlPlane"`
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(2)
}

func decode(value, what string) []byte {
	decoded, err := base64.StdEncoding.DecodeString(value)
	if err != nil {
		fail("failed to decode %s: %v", what, err)
	}
	return decoded
}

func main() {
	if len(os.Args) < 4 {
		fail("usage: go-client CONFIG METHOD PATH [JSON-BODY]")
	}
	text, err := os.ReadFile(os.Args[1])
	if err != nil {
		fail("read config: %v", err)
	}
	var cfg config
	if err := yaml.Unmarshal(text, &cfg); err != nil {
		fail("parse config: %v", err)
	}
	var current *controlPlane
	for i := range cfg.ControlPlanes {
		if cfg.ControlPlanes[i].Name == cfg.CurrentControlPlane {
			current = &cfg.ControlPlanes[i]
		}
	}
	if current == nil {
		fail("current control plane %q not found", cfg.CurrentControlPlane)
	}

	client := &http.Client{}
	scheme := "http"
	if current.AuthEnabled {
		scheme = "https"
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(decode(current.CACert, "CA certificate")) {
			fail("CACert holds no PEM certificate")
		}
		tlsConfig := &tls.Config{RootCAs: pool}
		for _, cred := range current.Credentials {
			if cred.Name != current.Name {
				continue
			}
			pair, err := tls.X509KeyPair(decode(cred.ClientCert, "client certificate"), decode(cred.ClientKey, "client private key"))
			if err != nil {
				fail("client certificate: %v", err)
			}
			tlsConfig.Certificates = []tls.Certificate{pair}
		}
		client.Transport = &http.Transport{TLSClientConfig: tlsConfig}
	}

	body := ""
	if len(os.Args) > 4 {
		body = os.Args[4]
	}
	server := strings.TrimPrefix(strings.TrimPrefix(current.APIServer, "https://"), "http://")
	request, err := http.NewRequest(os.Args[2], scheme+"://"+server+os.Args[3], bytes.NewBufferString(body))
	if err != nil {
		fail("request: %v", err)
	}
	request.Header.Set("Content-Type", "application/json")
	request.Header.Set("Authorization", "Bearer ")
	response, err := client.Do(request)
	if err != nil {
		fail("%v", err)
	}
	defer response.Body.Close()
	answer, _ := io.ReadAll(response.Body)
	fmt.Printf("%d\n%s", response.StatusCode, answer)
}
