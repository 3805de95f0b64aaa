# sigma-cli finds pipelines in the sigma.pipelines namespace; this module only re-exports ours.
from converters.pipelines.plugin import pipelines

__all__ = ["pipelines"]
