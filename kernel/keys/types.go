package keys

// keyType is a key type uk knows (Linux's struct key_type): "user",
// "logon" and "keyring". Types Linux builds as modules or for crypto
// (big_key, asymmetric, encrypted, trusted, dns_resolver) are unknown to
// uk, as to a kernel configured without them.
type keyType struct {
	name string
	// readable: the type has a read method (KEYCTL_READ works, and new
	// keys get KEY_POS_READ).
	readable bool
	// updatable: the type has an update method (add_key over an
	// existing key updates it; KEYCTL_UPDATE works).
	updatable bool
	// keyring: the type is "keyring".
	keyring bool
	// vet checks a description (vet_description); nil: any.
	vet func(desc string) error
	// preparse checks a payload; nil: any.
	preparse func(payload []byte) error
}

var (
	typeUser = &keyType{name: "user", readable: true, updatable: true, preparse: userPreparse}
	// typeLogon is "user" without read: the payload stays in the kernel.
	typeLogon   = &keyType{name: "logon", updatable: true, preparse: userPreparse, vet: logonVet}
	typeKeyring = &keyType{name: "keyring", keyring: true, readable: true, preparse: keyringPreparse}
	// typeAuth stands for ".request_key_auth": no key of it ever exists
	// in uk (there is no request-key upcall), so a search for one finds
	// nothing, with the errors the search meets on the way.
	typeAuth = &keyType{name: ".request_key_auth"}
)

// lookupType finds a type by name (key_type_lookup): ENOKEY for one uk
// does not have.
func lookupType(name string) (*keyType, error) {
	switch name {
	case "user":
		return typeUser, nil
	case "logon":
		return typeLogon, nil
	case "keyring":
		return typeKeyring, nil
	}
	return nil, errNoKey
}

// userPreparse is user_preparse: 1 to 32767 bytes.
func userPreparse(p []byte) error {
	if len(p) == 0 || len(p) > 32767 {
		return errInval
	}
	return nil
}

// keyringPreparse: a keyring is made empty.
func keyringPreparse(p []byte) error {
	if len(p) != 0 {
		return errInval
	}
	return nil
}

// logonVet is logon_vet_description: "service:rest", the service part
// not empty.
func logonVet(desc string) error {
	for i := 0; i < len(desc); i++ {
		if desc[i] == ':' {
			if i == 0 {
				return errInval
			}
			return nil
		}
	}
	return errInval
}
