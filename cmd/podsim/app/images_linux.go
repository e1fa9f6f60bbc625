package app

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

func newImagesCommand(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "images",
		Short: "List the images podsim can provide offline, marking stand-ins",
		Long: `No registry is needed: podsim builds real OCI images from programs on this
machine and imports them into containerd the first time a pod uses them. A
stand-in is not the upstream image but behaves like it for the article's pods.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cat, err := e.images()
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(e.out, 0, 8, 3, ' ', 0)
			fmt.Fprintln(tw, "IMAGE\tALSO\tSTAND-IN\tBUILT FROM")
			for _, en := range cat.Entries() {
				si := "no"
				if en.StandIn {
					si = "yes"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", en.Name, orNone(strings.Join(en.Aliases, ", ")), si, en.Source)
			}
			return tw.Flush()
		},
	}
}
