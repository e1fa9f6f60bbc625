package app

import (
	"errors"

	"github.com/spf13/cobra"
)

func newCompareCommand(e *env) *cobra.Command {
	return &cobra.Command{Use: "compare POD-MANIFEST", Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
		return errors.New("not yet")
	}}
}
