package app

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// newDocsCommand is the hidden `podsim docs`: it writes the CLI reference,
// one Markdown page per command, with cobra's doc generator, and the field
// table (docs/fields.md). The pages in docs/ are generated this way;
// regenerate them with 'go run ./cmd/podsim docs' after changing a
// command's flags or help or the field table (TestDocsUpToDate checks).
func newDocsCommand() *cobra.Command {
	var dir, fields, readme string
	cmd := &cobra.Command{
		Use:    "docs",
		Short:  "Write the CLI reference (Markdown, one page per command) into a directory",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			root := cmd.Root()
			// No "Auto generated on <date>" footer: the same tree gives the same pages.
			root.DisableAutoGenTag = true
			if err := doc.GenMarkdownTree(root, dir); err != nil {
				return err
			}
			if err := os.WriteFile(fields, []byte(fieldsMarkdown()), 0o644); err != nil {
				return err
			}
			if readme != "" {
				if err := updateReadme(readme); err != nil {
					return err
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "CLI reference written to %s (start at %s/podsim.md), field table to %s\n", dir, dir, fields)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "docs/cli", "directory to write the Markdown pages to")
	cmd.Flags().StringVar(&fields, "fields", "docs/fields.md", "file to write the field table to")
	cmd.Flags().StringVar(&readme, "readme", "README.md", "README whose field-differences block to regenerate (\"\": none)")
	return cmd
}
