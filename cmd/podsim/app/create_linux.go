package app

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podsim/podsim/objects/store"
)

func newCreateCommand(e *env) *cobra.Command {
	create := &cobra.Command{
		Use:   "create configmap|secret ...",
		Short: "Create a ConfigMap or Secret from files or literals (like kubectl create)",
	}
	var files, literals []string
	cm := &cobra.Command{
		Use:     "configmap NAME [--from-file=[KEY=]PATH] [--from-literal=KEY=VALUE]",
		Aliases: []string{"cm"},
		Short:   "Create a ConfigMap",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := collectData(e, files, literals)
			if err != nil {
				return err
			}
			om, err := e.objectManager()
			if err != nil {
				return err
			}
			if om.Pods().Store().Exists(store.ConfigMaps, e.namespace, args[0]) {
				return fmt.Errorf("configmaps %q already exists: change it with 'podsim apply -f' or delete it first", args[0])
			}
			obj := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: args[0], Namespace: e.namespace}, Data: map[string]string{}}
			for k, v := range data {
				obj.Data[k] = string(v)
			}
			if _, err := om.ApplyConfigMap(e.ctx, obj); err != nil {
				return err
			}
			fmt.Fprintf(e.out, "configmap/%s created\n", args[0])
			return nil
		},
	}
	cm.Flags().StringArrayVar(&files, "from-file", nil, "file (key = file name) or KEY=PATH; a directory adds each file")
	cm.Flags().StringArrayVar(&literals, "from-literal", nil, "KEY=VALUE")

	secret := &cobra.Command{Use: "secret generic|tls NAME ...", Short: "Create a Secret"}
	var sfiles, sliterals []string
	generic := &cobra.Command{
		Use:   "generic NAME [--from-file=[KEY=]PATH] [--from-literal=KEY=VALUE]",
		Short: "Create an Opaque Secret",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := collectData(e, sfiles, sliterals)
			if err != nil {
				return err
			}
			return createSecret(e, args[0], corev1.SecretTypeOpaque, data)
		},
	}
	generic.Flags().StringArrayVar(&sfiles, "from-file", nil, "file (key = file name) or KEY=PATH")
	generic.Flags().StringArrayVar(&sliterals, "from-literal", nil, "KEY=VALUE")
	var certFile, keyFile string
	tls := &cobra.Command{
		Use:   "tls NAME --cert=FILE --key=FILE",
		Short: "Create a kubernetes.io/tls Secret (keys tls.crt and tls.key)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if certFile == "" || keyFile == "" {
				return fmt.Errorf("secret tls needs --cert=FILE and --key=FILE")
			}
			crt, err := e.readFile(certFile)
			if err != nil {
				return err
			}
			key, err := e.readFile(keyFile)
			if err != nil {
				return err
			}
			if !strings.Contains(string(crt), "BEGIN CERTIFICATE") || !strings.Contains(string(key), "PRIVATE KEY") {
				return fmt.Errorf("--cert must be a PEM certificate and --key a PEM private key")
			}
			return createSecret(e, args[0], corev1.SecretTypeTLS, map[string][]byte{corev1.TLSCertKey: crt, corev1.TLSPrivateKeyKey: key})
		},
	}
	tls.Flags().StringVar(&certFile, "cert", "", "PEM certificate file")
	tls.Flags().StringVar(&keyFile, "key", "", "PEM private key file")
	secret.AddCommand(generic, tls)
	create.AddCommand(cm, secret)
	return create
}

func createSecret(e *env, name string, typ corev1.SecretType, data map[string][]byte) error {
	om, err := e.objectManager()
	if err != nil {
		return err
	}
	if om.Pods().Store().Exists(store.Secrets, e.namespace, name) {
		return fmt.Errorf("secrets %q already exists: delete it first with 'podsim delete secret %s'", name, name)
	}
	obj := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: e.namespace}, Type: typ, Data: data}
	if _, err := om.ApplySecret(e.ctx, obj); err != nil {
		return err
	}
	fmt.Fprintf(e.out, "secret/%s created\n", name)
	return nil
}

// collectData reads --from-file and --from-literal as kubectl does.
func collectData(e *env, files, literals []string) (map[string][]byte, error) {
	data := map[string][]byte{}
	add := func(k string, v []byte) error {
		if _, dup := data[k]; dup {
			return fmt.Errorf("key %q is given twice", k)
		}
		data[k] = v
		return nil
	}
	for _, l := range literals {
		k, v, ok := strings.Cut(l, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--from-literal %q must be KEY=VALUE", l)
		}
		if err := add(k, []byte(v)); err != nil {
			return nil, err
		}
	}
	for _, f := range files {
		key, path, ok := strings.Cut(f, "=")
		if !ok {
			key, path = "", f
		}
		fi, err := e.stat(path)
		if err != nil {
			return nil, fmt.Errorf("--from-file %s: %w", path, err)
		}
		if fi.IsDir() {
			ents, _ := os.ReadDir(e.path(path))
			for _, en := range ents {
				if en.Type().IsRegular() {
					b, err := e.readFile(filepath.Join(path, en.Name()))
					if err != nil {
						return nil, err
					}
					if err := add(en.Name(), b); err != nil {
						return nil, err
					}
				}
			}
			continue
		}
		b, err := e.readFile(path)
		if err != nil {
			return nil, err
		}
		if key == "" {
			key = filepath.Base(path)
		}
		if err := add(key, b); err != nil {
			return nil, err
		}
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("give the data with --from-file or --from-literal")
	}
	return data, nil
}
