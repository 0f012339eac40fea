module github.com/qkbench/qkbench

go 1.26
