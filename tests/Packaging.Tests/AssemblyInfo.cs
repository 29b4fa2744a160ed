// Each test runs dotnet builds, packs or Native AOT publishes that use both cores by themselves: one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
