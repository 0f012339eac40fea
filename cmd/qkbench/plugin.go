package main

import (
	"errors"
	"flag"
	"io/fs"
	"strings"

	"github.com/qkbench/qkbench/kernels"
	"github.com/qkbench/qkbench/kernels/plugin"
)

// pluginFlag adds the repeatable --plugin LIB.so flag to flags. Every verb that
// selects kernels calls it before parsing, and the function it returns after:
// that loads each library named (plugin.Load) and registers its kernels,
// backend "plugin". A path with no file is a usage error (exit status 2); a
// file that is not a valid plugin is an error naming the library and the
// kernel (exit status 1). It returns the kernels of the libraries named.
//
//	loadPlugins := pluginFlag(fs)
//	if err := parse(fs, args); err != nil { return err }
//	if _, err := loadPlugins(); err != nil { return err }
func pluginFlag(flags *flag.FlagSet) func() ([]kernels.Kernel, error) {
	var paths pluginPaths
	flags.Var(&paths, "plugin", "load kernels from this shared `library` (include/qkbench_kernel.h); repeatable")
	return func() ([]kernels.Kernel, error) {
		var out []kernels.Kernel
		for _, p := range paths {
			ks, err := plugin.Load(p)
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil, usageError{err}
				}
				return nil, err
			}
			out = append(out, ks...)
		}
		return out, nil
	}
}

// pluginPaths is the value of a repeated --plugin flag.
type pluginPaths []string

func (p *pluginPaths) String() string { return strings.Join(*p, " ") }

func (p *pluginPaths) Set(v string) error {
	if strings.TrimSpace(v) == "" {
		return errors.New("empty library path")
	}
	*p = append(*p, v)
	return nil
}
