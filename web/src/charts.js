// ECharts through vue-echarts, with only the chart types and components the pages draw. Loaded on demand by
// loadCharts() (its own chunk, outside the initial bundle); a page whose chart chunk cannot load shows tables.
import {BarChart, LineChart, PieChart, ScatterChart} from "echarts/charts";
import {DataZoomComponent, GridComponent, LegendComponent, MarkLineComponent, TitleComponent, TooltipComponent}
  from "echarts/components";
import {graphic, use} from "echarts/core";
import {CanvasRenderer} from "echarts/renderers";
import VChart from "vue-echarts";

use([BarChart, LineChart, PieChart, ScatterChart, DataZoomComponent, GridComponent, LegendComponent, MarkLineComponent,
     TitleComponent, TooltipComponent, CanvasRenderer]);

export {graphic, VChart};
