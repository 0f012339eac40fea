package scalar_test

import (
	"testing"

	"github.com/qkbench/qkbench/kernels/kerneltest"
	"github.com/qkbench/qkbench/kernels/scalar"
)

func TestRefF32(t *testing.T) { kerneltest.Run(t, scalar.RefF32) }
func TestRefI8(t *testing.T)  { kerneltest.Run(t, scalar.RefI8) }

func TestGoF32(t *testing.T) { kerneltest.Run(t, scalar.GoF32) }
func TestGoI8(t *testing.T)  { kerneltest.Run(t, scalar.GoI8) }
